// What the rotation scenarios share (rotation.test.ts, rotationInterrupted.test.ts): the article's lab with
// certificates due for renewal, an engine whose renewal window makes every certificate due, users dialling
// from another process, and the checks that judge a rotation by tokens, dials and keys.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mfaClientAppId } from "../../config/clouds";
import { startProjectEngine } from "../../engine/projectEngine";
import { RunningLab, startLab } from "../../lab/cli";
import type { DialResult } from "../../lab/radius/vpnDial";
import { hostEvents } from "../../lab/windows/eventLog";
import {
  readHostState,
  selfSignedNpsCertificate,
  startIas,
  updateHostState,
} from "../../lab/windows/hostState";
import { thumbprintOfKey } from "../../providers/entra";
import { Engine } from "../../engine";
import { labStack } from "../../lab/stackFiles";

const repoRoot = path.resolve(__dirname, "..", "..");
const dayMs = 86_400_000;

export interface Scenario {
  dir: string;
  lab: RunningLab;
  engine: Engine;
  /** Dial loops started, killed in after() if a test timed out with one running. */
  loops: DialLoop[];
}

export async function startScenario(prefix: string): Promise<Scenario> {
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
  const engine = await startProjectEngine(labStack(lab.description));
  return { dir, lab, engine, loops: [] };
}

export async function stopScenario(scenario: Scenario | undefined, ...engines: (Engine | undefined)[]) {
  for (const loop of scenario?.loops ?? []) loop.kill();
  for (const engine of [scenario?.engine, ...engines]) await engine?.stop();
  await scenario?.lab.stop();
  if (scenario) fs.rmSync(scenario.dir, { recursive: true, force: true });
}

/** The same stack with every NPS server's renewal window at its maximum: every certificate is due. */
export function renewingEngine(scenario: Scenario): Promise<Engine> {
  const stack = labStack(scenario.lab.description);
  for (const server of stack.config.npsServers as Record<string, unknown>[])
    server.certificateRenewalDays = 729;
  return startProjectEngine(stack);
}

export const npsHosts = (lab: RunningLab) => lab.description.hosts.filter((host) => host.role === "nps");

/** AuthZ event 3 (ESTS_TOKEN_ERROR) on every NPS host: one per failed token acquisition. */
export const tokenFailures = (lab: RunningLab) =>
  npsHosts(lab).flatMap((host) =>
    hostEvents(host.stateFile, readHostState(host.stateFile).events, { logName: "AuthZAdminCh", id: 3 }),
  );

/** A dial as the dial loop reports it: its outcome and when it started (ISO time). */
export type TimedDial = DialResult & { started: string };

/** Dials from another process until stopped; `stop` resolves with every dial it made. */
export class DialLoop {
  private readonly results: TimedDial[] = [];
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
        const result = JSON.parse(line) as TimedDial;
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

  async stop(): Promise<TimedDial[]> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
    return this.results;
  }
}

/** Every key on the Client is one of the current NPS certificates (or not ours), one per server. */
export function assertOneKeyPerServer(lab: RunningLab) {
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

export async function rotateWhileDialling(
  scenario: Scenario,
  rotate: () => Promise<void>,
): Promise<TimedDial[]> {
  scenario.lab.setApprovalSeconds(1);
  const loop = new DialLoop(scenario.dir);
  scenario.loops.push(loop);
  let dials: TimedDial[] = [];
  try {
    await loop.dialStartedAfter(new Date(0).toISOString());
    await rotate();
    await loop.dialStartedAfter(new Date().toISOString());
  } finally {
    dials = await loop.stop();
  }
  return dials;
}
