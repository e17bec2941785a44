// Issue 11's proof, judged by VPN dials: after `up` the article's lab signs users in; and rotating every
// NPS server's certificate (renewal window forced) while users keep dialling from another process fails
// no token acquisition and no dial. rotationInterrupted.test.ts has the run that dies half-way.
import * as assert from "node:assert/strict";
import { dialInLab } from "../../lab/radius/vpnDial";
import { hostEvents } from "../../lab/windows/eventLog";
import { readHostState, updateHostState } from "../../lab/windows/hostState";
import { emptyState, Engine, EngineState } from "../../engine";
import {
  assertOneKeyPerServer,
  npsHosts,
  renewingEngine,
  rotateWhileDialling,
  Scenario,
  startScenario,
  stopScenario,
  tokenFailures,
} from "./rotationSupport";

describe("scenario: sign-in through the lab's VPN, and certificate rotation that never breaks it", function () {
  this.timeout(900_000);
  let scenario: Scenario | undefined;
  let renewing: Engine | undefined;
  let state: EngineState = emptyState();

  before(async () => {
    scenario = await startScenario("npsmfa-rotation-");
  });
  after(() => stopScenario(scenario, renewing));

  it("after up, a dial with a 20 s approval succeeds within the 60 s timeout; with the timeout back at 5 s it fails", async () => {
    const { lab, engine } = scenario!;
    state = (await engine.up(state)).state;
    const connected = await dialInLab(lab.description, "vpn01", "alice", lab.dir);
    assert.equal(connected.outcome, "connected");
    assert.deepEqual(connected.attempts, [{ server: "nps01", timeoutSeconds: 60, outcome: "accepted" }]);

    const vpn = lab.description.hosts.find((host) => host.name === "vpn01")!.stateFile;
    updateHostState(vpn, (host) => host.remoteAccessRadius.forEach((entry) => (entry.timeout = 5)));
    const failed = await dialInLab(lab.description, "vpn01", "alice", lab.dir);
    assert.equal(failed.outcome, "failed");
    assert.deepEqual(
      failed.attempts.map((attempt) => attempt.outcome),
      ["no answer", "no answer"],
    );
    assert.deepEqual(
      failed.clientEvents.map((event) => [
        event.id,
        /error code returned on failure is 0\./.test(event.message),
      ]),
      [[20227, true]],
    );
    assert.deepEqual(
      hostEvents(vpn, [], { logName: "Application" }),
      [],
      "a client event reached the VPN host",
    );
    assert.deepEqual(tokenFailures(lab), [], "the tenant is healthy: every token was acquired");
    updateHostState(vpn, (host) => host.remoteAccessRadius.forEach((entry) => (entry.timeout = 60)));
  });

  it("rotating every NPS certificate while users dial from another process: 0 failed tokens, 0 failed dials", async () => {
    const { lab } = scenario!;
    const before = npsHosts(lab).map((host) => readHostState(host.stateFile).certificates[0].thumbprint);
    renewing = await renewingEngine(scenario!);
    let steps: string[] = [];
    const dials = await rotateWhileDialling(scenario!, async () => {
      const result = await renewing!.up(state);
      state = result.state;
      steps = result.steps.filter((step) => step.op !== "same").map((step) => `${step.op} ${step.name}`);
    });
    for (const name of ["nps01", "nps02"]) {
      for (const part of ["certificate", "credential", "extension", "ias-restart", "superseded-keys"]) {
        assert.ok(
          steps.includes(`update ${name}-${part}`),
          `${name}-${part} was not updated: ${steps.join(", ")}`,
        );
      }
    }
    const after = npsHosts(lab).map((host) => readHostState(host.stateFile).certificates[0].thumbprint);
    after.forEach((thumbprint, index) => assert.notEqual(thumbprint, before[index], "not rotated"));
    assert.ok(dials.length >= 2, `only ${dials.length} dials ran during the rotation`);
    assert.deepEqual(
      dials.filter((dial) => dial.outcome !== "connected"),
      [],
    );
    assert.deepEqual(tokenFailures(lab), []);
    assertOneKeyPerServer(lab);
  });
});
