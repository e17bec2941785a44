// One connection and one script run per host. A full drift read of the lab, through our providers as the
// dynamic-provider host loads and calls them (bench/fleetRead.ts), counted where it lands: on the lab
// hosts' WS-Management listeners. And the batch itself on real PowerShell: several host scripts in one
// command answer exactly as they would one by one, a failing one failing alone.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readFleet } from "../../bench/fleetRead";
import { startProjectEngine } from "../../engine/projectEngine";
import { RunningLab, startLab } from "../../lab/cli";
import { articleNpsHost, writeHostState } from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";
import { runHostScript, runHostScripts, type HostScriptRequest } from "../../remote/hostScripts";
import { closeHostConnections } from "../../remote/windows/hostConnections";
import { emptyState, type EngineState } from "../../engine";
import { SecretsManager } from "../../engine/storedProvider";
import { labStack } from "../../lab/stackFiles";

describe("a full read of the lab through the providers", function () {
  this.timeout(600_000);
  let labDir: string;
  let projectDir: string;
  let lab: RunningLab;
  let state: EngineState;

  before(async () => {
    labDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-read-lab-"));
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-read-project-"));
    lab = await startLab({ dir: labDir, projectDir, nps: 2, vpn: 1, seed: "healthy" });
    const engine = await startProjectEngine(labStack(lab.description));
    try {
      state = (await engine.up(emptyState())).state;
    } finally {
      await engine.stop();
    }
  });

  after(async () => {
    await closeHostConnections();
    await lab?.stop();
    for (const dir of [labDir, projectDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("costs each host one script run and at most 8 HTTP exchanges, the NTLM handshake included", async () => {
    await closeHostConnections();
    for (const host of lab.hosts.hosts) host.resetCounters();
    const config = new SecretsManager().load(state.provider!).config;

    const { reads, failures } = await readFleet(state, config, "npsmfa");

    assert.deepEqual(failures, []);
    // The reads resolve before each host's shell is deleted (after the burst): wait for that, then count.
    for (let waited = 0; lab.hosts.hosts.some((host) => host.openShells > 0) && waited < 60_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    // Certificate, extension settings, IAS record and superseded keys per NPS, timeouts per VPN, the tenant's.
    assert.ok(reads >= 3 * lab.hosts.hosts.length, `expected several resources per host, read ${reads}`);
    for (const host of lab.hosts.hosts) {
      assert.equal(host.exchangesByAction.Command, 1, `${host.name}: script runs`);
      assert.ok(host.exchanges <= 8, `${host.name}: ${host.exchanges} HTTP exchanges`);
      assert.equal(host.connections, 1, `${host.name}: TLS connections`);
      // The burst is over: no shell of ours is left on the host, though the connection stays open.
      assert.equal(host.openShells, 0, `${host.name}: shells left open`);
      assert.equal(host.exchangesByAction.Delete, 1, `${host.name}: shell deletes`);
    }
  });
});

describe("host scripts batched into one PowerShell command", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-batch-"));
  const tenantId = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
  const file = path.join(dir, "nps01.json");

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("answers each script as its own run does, in order, a failure failing only its own request", async () => {
    writeHostState(file, articleNpsHost("nps01", tenantId));
    const runner = labHostRunner("nps01", file, 120_000);
    const requests: HostScriptRequest[] = [
      { name: "NpsCertificate", data: { mode: "get", tenantId, renewalDays: 30, preferredThumbprint: "" } },
      // An NPS server has no Remote Access role: this one fails, naming its step.
      { name: "RadiusTimeout", data: { mode: "get", npsServers: ["nps01"], timeoutSeconds: 60 } },
      { name: "IasRestart", data: { mode: "get" } },
    ];

    const batched = await runHostScripts(runner, "nps01", requests);
    const alone = await Promise.all(
      requests.map((request) =>
        runHostScript(runner, "nps01", request.name, request.data).then(
          (result) => ({ ok: true, result }),
          (error: Error) => ({ ok: false, message: error.message }),
        ),
      ),
    );

    assert.equal(runner.commands.length, 4, "one command for the batch, one for each script alone");
    assert.deepEqual(
      batched.map((outcome) => outcome.ok),
      [true, false, true],
    );
    // "valid beyond <now + renewal days>" differs by the seconds between the runs.
    const timeless = (value: unknown) =>
      JSON.parse(JSON.stringify(value).replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, "<time>"));
    batched.forEach((outcome, index) => {
      const single = alone[index];
      if (outcome.ok)
        assert.deepEqual(timeless(outcome.result), timeless((single as { result: unknown }).result));
      else assert.equal(outcome.error.message, (single as { message: string }).message);
    });
    assert.match(
      (alone[1] as { message: string }).message,
      /nps01: RadiusTimeout\.ps1 failed at .*RemoteAccessNotInstalled/,
    );
  });
});
