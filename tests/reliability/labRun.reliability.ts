// A full lab run through Pulumi's dynamic-provider host (the article's lab, three NPS servers, one VPN
// server), then runs forced to fail (a wrong WinRM password, a wrong Graph client secret). Canary
// secrets (every lab password and
// the Graph client secret, plus the wrong ones) are then looked for in every state, the serialized
// providers inside it, the host's log, every error message and the lab's files.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startProjectEngine } from "../../engine/projectEngine";
import { RunningLab, startLab } from "../../lab/cli";
import { Engine, EngineError, EngineState, emptyState, StackSettings } from "../../engine";
import { labSecrets } from "../scenario/support";
import { labStack } from "../../lab/stackFiles";
import { count } from "./tally";

/** Files whose job is to hand the lab's credentials to the operator (README: lab.json, set-lab-secrets.sh). */
const credentialHandoffFiles = new Set(["lab.json", "set-lab-secrets.sh"]);

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(file);
    return credentialHandoffFiles.has(entry.name) ? [] : [file];
  });
}

describe("a full lab run under faults, and canary secrets", function () {
  this.timeout(600_000);
  let labDir: string;
  let projectDir: string;
  let lab: RunningLab;
  let stack: StackSettings;
  let engine: Engine;
  let state: EngineState = emptyState();
  const states: EngineState[] = [];
  const errorMessages: string[] = [];
  const logs: string[] = [];
  const wrongSecrets = ["Wrong-WinRM-P@ss-canary-5e1", "Wrong-Graph-S3cret-canary-77a"];

  /** Runs up on a separate engine whose stack is changed by `change`; returns the error it must fail with. */
  async function failingUp(change: (settings: StackSettings) => void): Promise<Error> {
    const settings = JSON.parse(JSON.stringify(stack)) as StackSettings;
    change(settings);
    const other = await startProjectEngine(settings);
    try {
      const error = await other.up(state, { refresh: true }).then(
        () => undefined,
        (failure: Error) => failure,
      );
      assert.ok(error, "expected the run to fail");
      errorMessages.push(error.message);
      if (error instanceof EngineError) states.push(error.state);
      return error;
    } finally {
      logs.push(other.hostLog);
      await other.stop();
    }
  }

  before(async () => {
    labDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-reliability-lab-"));
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-reliability-project-"));
    lab = await startLab({ dir: labDir, projectDir, nps: 3, vpn: 1, seed: "article" });
    stack = labStack(lab.description);
    engine = await startProjectEngine(stack);
    const repaired = await engine.up(state);
    state = repaired.state;
    states.push(state);
  });

  after(async () => {
    await engine?.stop();
    await lab?.stop();
    for (const dir of [labDir, projectDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("fails a run with a wrong WinRM password or Graph client secret without echoing either", async () => {
    // A refresh signs in with the credentials the last up saved (the engine's registry.go), so a wrong new
    // one shows only when something must be applied: each run also changes a setting that needs the server.
    const winrm = await failingUp((settings) => {
      const vpn = (
        settings.config.vpnServers as { winrm: Record<string, unknown>; radiusTimeoutSeconds?: number }[]
      )[0];
      vpn.winrm.password = wrongSecrets[0];
      vpn.radiusTimeoutSeconds = 90;
    });
    const graph = await failingUp((settings) => {
      (settings.config.graph as Record<string, unknown>).clientSecret = wrongSecrets[1];
      for (const nps of settings.config.npsServers as { certificateRenewalDays?: number }[])
        nps.certificateRenewalDays = 61;
    });
    count({ faultsInjected: 2, haltedCleanly: 2 });
    assert.match(winrm.message, /authentication|401/i);
    assert.match(graph.message, /AADSTS7000215|client secret/i);
  });

  it("finds no canary secret in state, serialized providers, logs, error messages or lab files", () => {
    logs.push(engine.hostLog);
    const canaries = [...labSecrets(lab.description), ...wrongSecrets];
    const places: [string, string][] = [
      ...states.map((entry, index): [string, string] => [`state #${index}`, JSON.stringify(entry)]),
      ...logs.map((log, index): [string, string] => [`host log #${index}`, log]),
      ...errorMessages.map((message, index): [string, string] => [`error #${index}`, message]),
      ...[labDir, projectDir]
        .flatMap(filesUnder)
        .map((file): [string, string] => [file, fs.readFileSync(file, "latin1")]),
    ];
    assert.ok(
      states.some((entry) => JSON.stringify(entry).includes("__provider")),
      "the serialized providers are part of what is scanned",
    );
    const found = places.flatMap(([place, text]) =>
      canaries.filter((secret) => text.includes(secret)).map((secret) => `${place}: ${secret.slice(0, 4)}…`),
    );
    count({ secretsFound: found.length });
    assert.deepEqual(found, []);
  });
});
