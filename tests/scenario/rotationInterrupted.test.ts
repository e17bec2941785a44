// Issue 11's proof when the rotation's run dies between the credential update and the IAS restart: a
// second `up` finishes the rotation, and no token acquisition and no dial fails on the way. Its own file,
// so that it runs beside rotation.test.ts (each takes two minutes).
import * as assert from "node:assert/strict";
import { mfaClientAppId } from "../../config/clouds";
import { readHostState } from "../../lab/windows/hostState";
import { emptyState, Engine, EngineError } from "../../engine";
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

describe("scenario: a rotation whose run dies between the credential update and the IAS restart", function () {
  this.timeout(900_000);
  let scenario: Scenario | undefined;
  let renewing: Engine | undefined;

  before(async () => {
    scenario = await startScenario("npsmfa-rotation-killed-");
  });
  after(() => stopScenario(scenario, renewing));

  it("the second up finishes it, and nobody's dial or token fails on the way", async () => {
    const { lab, engine } = scenario!;
    let state = (await engine.up(emptyState())).state;
    renewing = await renewingEngine(scenario!);
    // The moment the renewed key lands on the Client, the run dies: the credential's confirming read fails
    // (500 is not retried), so the engine stops there and keeps the state of the steps before, as the CLI
    // checkpoints it. The host has the new certificate, IAS still runs the old one, the tenant has both keys.
    let interruptedAt = "";
    lab.graph.onAnswered((record) => {
      if (
        !interruptedAt &&
        record.method === "PATCH" &&
        record.status === 204 &&
        (record.keyIds?.length ?? 0) > 2
      ) {
        interruptedAt = new Date().toISOString();
        lab.graph.injectFault({
          kind: "status",
          status: 500,
          method: "GET",
          pathPattern: /select=keyCredentials/,
          times: 1,
        });
      }
    });
    const dials = await rotateWhileDialling(scenario!, async () => {
      const interrupted = await renewing!.up(state).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(interrupted instanceof EngineError, `the run was not interrupted: ${String(interrupted)}`);
      assert.ok(interruptedAt);
      state = interrupted.state;
      const nps01 = readHostState(npsHosts(lab)[0].stateFile);
      assert.equal(nps01.certificates.length, 2, "the renewed certificate is on the host");
      assert.equal(
        nps01.services.IAS.loaded!.settings.CLIENT_CERT_IDENTIFIER,
        nps01.certificates[0].thumbprint,
        "IAS already runs the new certificate: the run was not cut before the restart",
      );
      assert.equal(lab.graph.servicePrincipal(mfaClientAppId)!.keyCredentials.length, 3, "old and new key");
      state = (await renewing!.up(state)).state;
    });
    assert.deepEqual(
      dials.filter((dial) => dial.outcome !== "connected"),
      [],
    );
    assert.ok(
      dials.some((dial) => dial.started > interruptedAt),
      "no dial ran between the interrupted run and the second up",
    );
    assert.deepEqual(tokenFailures(lab), []);
    assertOneKeyPerServer(lab);
  });
});
