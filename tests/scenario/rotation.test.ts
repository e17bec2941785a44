// Issue 11's proof, judged by VPN dials: after `up` the article's lab signs users in; and rotating every
// NPS server's certificate (renewal window forced) while users keep dialling from another process fails
// no token acquisition and no dial, also when the run dies between the credential update and the IAS
// restart and a second `up` finishes the rotation.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mfaClientAppId } from "../../config/clouds";
import { loadStackConfig } from "../../config/load";
import { RunningLab, startLab } from "../../lab/cli";
import { dialInLab, DialResult } from "../../lab/radius/vpnDial";
import { hostEvents } from "../../lab/windows/eventLog";
import {
  readHostState,
  selfSignedNpsCertificate,
  startIas,
  updateHostState,
} from "../../lab/windows/hostState";
import { thumbprintOfKey } from "../../providers/entra";
import { buildProgram } from "../../program";
import { emptyState, Engine, EngineError, EngineState } from "../../engine";
import { labStack } from "../../lab/stackFiles";

const repoRoot = path.resolve(__dirname, "..", "..");
const dayMs = 86_400_000;

interface Scenario {
  dir: string;
  lab: RunningLab;
  engine: Engine;
  /** Dial loops started, killed in after() if a test timed out with one running. */
  loops: DialLoop[];
}

async function startScenario(prefix: string): Promise<Scenario> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const lab = await startLab({ dir, projectDir: dir, nps: 2, vpn: 1, seed: "article" });
  // Each NPS server's certificate is 400 days old: due for renewal once the window is 729 days.
  for (const host of lab.description.hosts.filter((entry) => entry.role === "nps")) {
    updateHostState(host.stateFile, (state) => {
      state.certificates = [
        selfSignedNpsCertificate(lab.description.tenantId, { notBefore: new Date(Date.now() - 400 * dayMs) }),
      ];
      startIas(state);
    });
  }
  const engine = await Engine.start({
    stack: labStack(lab.description),
    program: () => buildProgram(loadStackConfig()),
  });
  return { dir, lab, engine, loops: [] };
}

async function stopScenario(scenario: Scenario | undefined, ...engines: (Engine | undefined)[]) {
  for (const loop of scenario?.loops ?? []) loop.kill();
  for (const engine of [scenario?.engine, ...engines]) await engine?.stop();
  await scenario?.lab.stop();
  if (scenario) fs.rmSync(scenario.dir, { recursive: true, force: true });
}

/** The same stack with every NPS server's renewal window at its maximum: every certificate is due. */
function renewingEngine(scenario: Scenario): Promise<Engine> {
  const stack = labStack(scenario.lab.description);
  for (const server of stack.config.npsServers as Record<string, unknown>[])
    server.certificateRenewalDays = 729;
  return Engine.start({ stack, program: () => buildProgram(loadStackConfig()) });
}

const npsHosts = (lab: RunningLab) => lab.description.hosts.filter((host) => host.role === "nps");

/** AuthZ event 3 (ESTS_TOKEN_ERROR) on every NPS host: one per failed token acquisition. */
const tokenFailures = (lab: RunningLab) =>
  npsHosts(lab).flatMap((host) =>
    hostEvents(host.stateFile, readHostState(host.stateFile).events, { logName: "AuthZAdminCh", id: 3 }),
  );

/** Dials from another process until stopped; `stop` resolves with every dial it made. */
class DialLoop {
  private readonly results: (DialResult & { started: string })[] = [];
  private readonly waiters: { after: string; resolve: () => void }[] = [];
  private readonly child: ChildProcess;
  private buffer = "";

  constructor(dir: string) {
    this.child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "tests/lab/dialLoop.ts", dir, "vpn01", "alice"],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      this.buffer += chunk;
      const lines = this.buffer.split("\n");
      this.buffer = lines.pop()!;
      for (const line of lines.filter((entry) => entry.trim() !== "")) {
        const result = JSON.parse(line) as DialResult & { started: string };
        this.results.push(result);
        for (const waiter of this.waiters.filter((entry) => result.started > entry.after)) waiter.resolve();
      }
    });
  }

  /** Resolves once a dial that started after `time` has finished. */
  dialStartedAfter(time: string): Promise<void> {
    if (this.results.some((result) => result.started > time)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ after: time, resolve }));
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  async stop(): Promise<(DialResult & { started: string })[]> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
    return this.results;
  }
}

/** Every key on the Client is one of the current NPS certificates (or not ours), one per server. */
function assertOneKeyPerServer(lab: RunningLab) {
  const keys = lab.graph.servicePrincipal(mfaClientAppId)!.keyCredentials;
  for (const host of npsHosts(lab)) {
    const state = readHostState(host.stateFile);
    assert.equal(state.certificates.length, 1, `${host.name}: the old certificate is still on the host`);
    const ours = keys.filter((key) => key.displayName?.endsWith(host.name));
    assert.deepEqual(
      ours.map((key) => thumbprintOfKey(key)),
      [state.certificates[0].thumbprint],
      `${host.name}: expected only its current certificate on the Client`,
    );
    assert.equal(
      state.services.IAS.loaded!.settings.CLIENT_CERT_IDENTIFIER,
      state.certificates[0].thumbprint,
    );
  }
}

async function rotateWhileDialling(
  scenario: Scenario,
  rotate: () => Promise<void>,
): Promise<(DialResult & { started: string })[]> {
  scenario.lab.setApprovalSeconds(1);
  const loop = new DialLoop(scenario.dir);
  scenario.loops.push(loop);
  let dials: (DialResult & { started: string })[] = [];
  try {
    await loop.dialStartedAfter(new Date(0).toISOString());
    await rotate();
    await loop.dialStartedAfter(new Date().toISOString());
  } finally {
    dials = await loop.stop();
  }
  return dials;
}

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
    const connected = await dialInLab(lab.description, "vpn01", "alice");
    assert.equal(connected.outcome, "connected");
    assert.deepEqual(connected.attempts, [{ server: "nps01", timeoutSeconds: 60, outcome: "accepted" }]);

    const vpn = lab.description.hosts.find((host) => host.name === "vpn01")!.stateFile;
    updateHostState(vpn, (host) => host.remoteAccessRadius.forEach((entry) => (entry.timeout = 5)));
    const failed = await dialInLab(lab.description, "vpn01", "alice");
    assert.equal(failed.outcome, "failed");
    assert.deepEqual(
      failed.attempts.map((attempt) => attempt.outcome),
      ["no answer", "no answer"],
    );
    assert.equal(hostEvents(vpn, [], { id: 20221 }).length, 1);
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
