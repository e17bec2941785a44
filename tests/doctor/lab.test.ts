// The doctor against the lab: each cause the lab can seed is put alone into a healthy lab and must come
// back as the doctor's `cause`; the article's lab through `npm run doctor` as a person runs it, which must
// leave every host's state and the tenant byte for byte as they were.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyCause, causeUser, labCauses, signInOnce } from "../../lab/causes";
import { RunningLab, startLab } from "../../lab/cli";
import { labStackConfig } from "../../doctor/config";
import { causeOf, diagnose } from "../../doctor/diagnose";
import { smsVoiceRetirement } from "../../doctor/methodRetirement";
import { gatherFacts } from "../../doctor/gather";
import type { DoctorReport } from "../../doctor/report";
import type { Finding } from "../../doctor/checks";
import { graphClientFor } from "../../remote/graph/client";
import { winrmRunner } from "../../remote/windows/winrmRunner";
import { labHostRunner } from "../../lab/windows/localRunner";
import { eventLogFile } from "../../lab/windows/eventLog";
import { radiusProxyHost, writeHostState } from "../../lab/windows/hostState";

const repoRoot = path.resolve(__dirname, "../..");
const tenantId = "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40";

/** Every file the lab keeps state in: host state files and the Graph tenant. */
function stateFiles(lab: RunningLab): string[] {
  return [...lab.description.hosts.map((host) => host.stateFile), lab.description.graphStateFile];
}

function snapshot(files: string[]): Map<string, Buffer> {
  return new Map(files.map((file) => [file, fs.readFileSync(file)]));
}

/** `npm run doctor -- <args>` as a child process: exit code, stdout and stderr. */
function runDoctor(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "doctor/cli.ts", ...args],
      { cwd: repoRoot },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("doctor: against the lab", function () {
  this.timeout(600_000);

  describe("one cause at a time in a healthy lab", () => {
    let lab: RunningLab;
    let dir: string;
    let healthy: Map<string, Buffer>;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-doctor-"));
      lab = await startLab({ dir, projectDir: dir, nps: 1, vpn: 1, seed: "healthy" });
      healthy = snapshot(stateFiles(lab));
    });
    after(async () => {
      await lab?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function doctorCause(
      user?: string,
    ): Promise<{ cause: string | null; ids: string[]; findings: Finding[] }> {
      const config = labStackConfig(dir);
      const now = new Date();
      const facts = await gatherFacts(config, {
        graph: graphClientFor(config),
        runnerFor: winrmRunner,
        since: new Date(now.getTime() - 3_600_000),
        now,
        ...(user === undefined ? {} : { user }),
      });
      const findings = diagnose(facts);
      return {
        cause: causeOf(findings),
        ids: findings.filter((entry) => entry.status !== "pass").map((entry) => entry.id),
        findings,
      };
    }

    it("finds no cause in the healthy lab, nor for a lab user who can sign in", async () => {
      assert.equal((await doctorCause()).cause, null);
      const { cause, findings } = await doctorCause(causeUser(causeContext()));
      assert.equal(cause, null);
      for (const id of [
        "user-not-found",
        "user-disabled",
        "user-not-synced",
        "user-no-mfa-method",
        "user-method-protocol",
      ])
        assert.ok(
          findings.some((entry) => entry.id === id && entry.status === "pass"),
          `${id} does not pass`,
        );
    });

    it("reads a RADIUS proxy's forwarding timeouts and fails one too short for a phone approval", async () => {
      // The lab has no proxy role with WinRM: the real Doctor.ps1 runs in real pwsh against a proxy's state.
      restoreHealthy();
      const proxyState = path.join(dir, "hosts", "proxy01.json");
      writeHostState(proxyState, radiusProxyHost("proxy01", ["nps01"], 5));
      const config = labStackConfig(dir);
      config.radiusProxies = [
        { hostname: "proxy01", winrm: config.npsServers[0].winrm, radiusTimeoutSeconds: 60 },
      ];
      const now = new Date();
      const facts = await gatherFacts(config, {
        graph: graphClientFor(config),
        runnerFor: (hostname, endpoint) =>
          hostname === "proxy01" ? labHostRunner(hostname, proxyState) : winrmRunner(hostname, endpoint),
        since: new Date(now.getTime() - 3_600_000),
        now,
      });
      assert.deepEqual(facts.proxyHosts[0].remoteServers, [
        { group: "MFA NPS", address: "nps01", timeoutSeconds: 5 },
      ]);
      const findings = diagnose(facts);
      assert.equal(causeOf(findings), "proxy-timeout-short");
      assert.equal(findings[0].where, "proxy01 -> nps01 (group MFA NPS)");
    });

    const causeContext = () => ({
      hosts: lab.description.hosts,
      graph: lab.graph,
      tenantId,
      radius: lab.radius,
      users: lab.description.users,
    });

    /** Back to the healthy lab, without the events an earlier cause's sign-ins logged. */
    function restoreHealthy(): void {
      for (const [file, bytes] of healthy) fs.writeFileSync(file, bytes);
      for (const host of lab.description.hosts) fs.rmSync(eventLogFile(host.stateFile), { force: true });
    }

    it("reports token errors that happened during a sign-in, mapped to the check that explains them", async () => {
      restoreHealthy();
      await applyCause("recent-token-errors", causeContext());
      const { cause, findings } = await doctorCause();
      assert.equal(cause, "recent-token-errors");
      const errors = findings.find((entry) => entry.id === "recent-token-errors")!;
      assert.match(
        errors.evidence,
        /1 x ESTS_TOKEN_ERROR AADSTS7000112 -> client-sp-disabled \(passes now\)/,
      );
      assert.match(errors.evidence, /1 x Security 6274 \(reason 21\)/);
      assert.match(errors.evidence, new RegExp(`users: ${lab.description.users[0].name}`));
    });

    it("explains AADSTS700027 after a rotation without an IAS restart by the restart", async () => {
      restoreHealthy();
      await applyCause("ias-restart-pending", causeContext());
      // IAS still signs with the certificate it loaded, whose key the rotation removed from the Client.
      const outcome = await signInOnce(causeContext());
      assert.deepEqual([outcome.outcome, outcome.reason], ["discarded", "AADSTS700027"]);
      const { cause, findings } = await doctorCause();
      assert.equal(cause, "ias-restart-pending");
      const errors = findings.find((entry) => entry.id === "recent-token-errors")!;
      assert.match(errors.evidence, /AADSTS700027 -> ias-restart-pending(?! \(passes)/);
    });

    for (const cause of labCauses) {
      it(`names ${cause} when the lab is seeded with it alone`, async () => {
        restoreHealthy();
        await applyCause(cause, causeContext());
        // The user causes are the doctor's only with --user, for the user they changed.
        const { cause: found, ids } = await doctorCause(
          cause.startsWith("user-") ? causeUser(causeContext()) : undefined,
        );
        // Inside the renewal window sign-in still works: a warning, not a cause. So do SMS and voice until
        // Microsoft stops delivering them.
        const warnsOnly =
          cause === "certificate-renewal-due" ||
          (cause === "user-methods-retiring" && Date.now() < Date.parse(smsVoiceRetirement));
        if (warnsOnly) {
          assert.equal(found, null);
          assert.ok(ids.includes(cause), `no ${cause} warning among ${ids.join(", ")}`);
        } else assert.equal(found, cause, `findings not passing: ${ids.join(", ")}`);
      });
    }
  });

  describe("npm run doctor on the article's lab", () => {
    let lab: RunningLab;
    let dir: string;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-doctor-article-"));
      lab = await startLab({ dir, projectDir: dir, nps: 2, vpn: 1, seed: "article" });
    });
    after(async () => {
      await lab?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("answers client-sp-disabled, with the Connector, the RADIUS timeout and the registration failing too, and writes nothing", async () => {
      const before = snapshot(stateFiles(lab));
      // Asynchronously: the lab's servers run in this process and must keep answering while the doctor runs.
      const run = await runDoctor(["--lab", dir, "--json"]);
      assert.equal(run.status, 1, run.stderr);
      const report = JSON.parse(run.stdout) as DoctorReport;
      assert.equal(report.cause, "client-sp-disabled");
      const failing = new Set<string>(
        report.findings.filter((entry) => entry.status === "fail").map((entry) => entry.id),
      );
      for (const id of ["connector-sp-disabled", "radius-timeout-short", "certificate-not-registered"])
        assert.ok(failing.has(id), `${id} does not fail`);
      assert.match(run.stderr, /doctor: read nps01/);
      for (const [file, bytes] of before)
        assert.ok(fs.readFileSync(file).equals(bytes), `${path.basename(file)} changed`);
    });
  });
});
