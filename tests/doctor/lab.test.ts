// The doctor against the lab: each cause the lab can seed is put alone into a healthy lab and must come
// back as the doctor's `cause`; the article's lab through `npm run doctor` as a person runs it, which must
// leave every host's state and the tenant byte for byte as they were; and the monitor (--watch) scraped by a
// real Prometheus while the lab breaks and the engine's `up --refresh` repairs it.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applyCause, causeUser, labCauses, signInOnce } from "../../lab/causes";
import { RunningLab, startLab } from "../../lab/cli";
import { labStackConfig } from "../../doctor/config";
import { emptyState } from "../../engine";
import { startProjectEngine } from "../../engine/projectEngine";
import { labStack } from "../../lab/stackFiles";
import { causeOf, diagnose } from "../../doctor/diagnose";
import { smsVoiceRetirement } from "../../doctor/methodRetirement";
import { gatherFacts } from "../../doctor/gather";
import type { DoctorReport } from "../../doctor/report";
import type { Finding } from "../../doctor/checks";
import { labFindings } from "./labDoctor";
import { graphClientFor } from "../../remote/graph/client";
import { winrmRunner } from "../../remote/windows/winrmRunner";
import { labHostRunner } from "../../lab/windows/localRunner";
import { eventLogFile } from "../../lab/windows/eventLog";
import { iasRestarts, radiusProxyHost, readHostState, writeHostState } from "../../lab/windows/hostState";
import { RunningMonitor, startMonitor } from "../../doctor/watch";
import { RunningPrometheus, Sample, startPrometheus } from "./prometheus";

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
      const findings = await labFindings(dir, user);
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

    it("watch: a real Prometheus scraping the monitor sees the breaks, the alerts, and the engine's repair; the lab stays byte for byte", async () => {
      restoreHealthy();
      // The stack takes the lab over first (a first up writes only npsmfa's record of what IAS loaded), so
      // that the repair below is `pulumi up --refresh` on a stack that manages the lab.
      const engine = await startProjectEngine(labStack(lab.description));
      let monitor: RunningMonitor | undefined;
      let prometheus: RunningPrometheus | undefined;
      let managed = new Map<string, Buffer>();
      const lines: string[] = [];
      const value = (samples: Sample[]) => samples[0]?.value;
      const alert = (name: string, labels = "") => `ALERTS{alertname="${name}"${labels ? `,${labels}` : ""}}`;
      try {
        const adopted = await engine.up(emptyState());
        managed = snapshot(stateFiles(lab));
        monitor = await startMonitor({
          config: labStackConfig(dir),
          graph: graphClientFor(labStackConfig(dir)),
          runnerFor: winrmRunner,
          intervalSeconds: 2,
          // A loaded 2-core machine: a lab read can take seconds; a round that overruns skips the next tick.
          hostTimeoutSeconds: 120,
          listen: { host: "127.0.0.1", port: 0 },
          log: (line) => lines.push(line),
        });
        prometheus = await startPrometheus(
          monitor.url.replace(/^http:\/\//, ""),
          path.join(repoRoot, "monitoring", "npsmfa.rules.yml"),
        );
        await prometheus.waitFor(
          "a healthy round",
          'npsmfa_check_status{check="client-sp-disabled"}',
          (samples) => value(samples) === 0,
        );
        assert.equal(value(await prometheus.query('npsmfa_probe_success{host="nps01"}')), 1);
        const timeout = value(
          await prometheus.query('npsmfa_radius_timeout_seconds{host="vpn01",server="nps01"}'),
        );
        assert.ok(timeout >= 60, `the healthy lab's RADIUS timeout: ${timeout}`);
        const renewal = await prometheus.query(
          'npsmfa_certificate_renewal_in_seconds{host="nps01",in_use="true"}',
        );
        assert.ok(
          value(renewal) > 0,
          `a fresh lab certificate is outside its renewal window: ${JSON.stringify(renewal)}`,
        );
        assert.deepEqual(
          await prometheus.query(`ALERTS{alertname=~"NpsMfa.*",alertname!="NpsMfaMonitorStale"}`),
          [],
        );
        // The monitor's rounds read only: every host and the tenant as they were.
        for (const [file, bytes] of snapshot(stateFiles(lab)))
          assert.ok(bytes.equals(managed.get(file)!), `${path.basename(file)} changed under the monitor`);

        // Behind the monitor's back, as an administrator or time would.
        for (const cause of ["client-sp-disabled", "certificate-expired", "radius-timeout-short"] as const)
          await applyCause(cause, causeContext());
        await prometheus.waitFor(
          "client-sp-disabled failing for two rounds",
          alert("NpsMfaCheckFailing", 'check="client-sp-disabled",host="tenant"'),
          (samples) => samples.length === 1,
        );
        const probe = await prometheus.waitFor(
          "the probe failing",
          'npsmfa_probe_success{host="nps01"}',
          (samples) => value(samples) === 0,
        );
        assert.match(probe[0].metric.aadsts, /^AADSTS\d+$/);
        await prometheus.waitFor(
          "the probe alert pending",
          alert("NpsMfaTokenProbeFailing", 'alertstate="pending",host="nps01"'),
          (samples) => samples.length === 1,
        );
        const expiry = await prometheus.query(
          'npsmfa_certificate_expires_in_seconds{host="nps01",in_use="true"}',
        );
        assert.ok(value(expiry) < 0, `the expired certificate: ${JSON.stringify(expiry)}`);
        await prometheus.waitFor(
          "the expiry alert pending",
          alert("NpsMfaCertificateExpiringSoon", 'alertstate="pending",host="nps01"'),
          (samples) => samples.length === 1,
        );
        assert.equal(
          value(await prometheus.query('npsmfa_radius_timeout_seconds{host="vpn01",server="nps01"}')),
          5,
        );
        assert.equal(
          value(
            await prometheus.query('npsmfa_check_status{check="radius-timeout-short",host="vpn01 -> nps01"}'),
          ),
          2,
        );
        const cause = await prometheus.query("npsmfa_cause");
        assert.equal(cause[0]?.metric.check, "client-sp-disabled");

        // The repair: one IAS restart for the new certificate, the Client enabled, the timeout back to 60 s.
        const { steps } = await engine.up(adopted.state, { refresh: true });
        const repaired = steps.filter((step) => step.op !== "same").map((step) => step.name);
        for (const name of [
          "tenant-mfa-client",
          "nps01-certificate",
          "nps01-ias-restart",
          "vpn01-radius-timeout",
        ])
          assert.ok(repaired.includes(name), `the up left ${name} alone; it changed ${repaired.join(", ")}`);
        const nps01 = lab.description.hosts.find((host) => host.name === "nps01")!;
        assert.equal(iasRestarts(readHostState(nps01.stateFile)).length, 1, "IAS restarted other than once");
        managed = snapshot(stateFiles(lab));
        await prometheus.waitFor(
          "the alerts cleared",
          'ALERTS{alertname=~"NpsMfaCheckFailing|NpsMfaTokenProbeFailing|NpsMfaCertificateExpiringSoon"}',
          (samples) => samples.length === 0,
        );
        assert.equal(value(await prometheus.query('npsmfa_probe_success{host="nps01"}')), 1);
        assert.deepEqual(await prometheus.query("npsmfa_cause"), []);
        assert.equal(
          value(await prometheus.query('npsmfa_radius_timeout_seconds{host="vpn01",server="nps01"}')),
          labStackConfig(dir).vpnServers[0].radiusTimeoutSeconds,
        );
        assert.ok(value(await prometheus.query('npsmfa_rounds_total{result="complete"}')) >= 3);
      } finally {
        await prometheus?.stop();
        await monitor?.stop();
        await engine.stop();
      }
      for (const [file, bytes] of snapshot(stateFiles(lab)))
        assert.ok(bytes.equals(managed.get(file)!), `${path.basename(file)} changed under the monitor`);
      assert.ok(
        lines.every((line) => /^round \d+ (complete|skipped)/.test(line)),
        lines.join("\n"),
      );
    });
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
