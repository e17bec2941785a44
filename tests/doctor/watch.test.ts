// The monitor without a lab: what a round exports (parsed back from the Prometheus text format), events
// counted once across rounds, a server that does not answer, rounds that would overlap, and the HTTP side.
import { strict as assert } from "node:assert";
import { mfaClientAppId } from "../../config/clouds";
import { diagnose } from "../../doctor/diagnose";
import type { EstateFacts, HostEventFacts } from "../../doctor/facts";
import { MonitorMetrics, probeCheck } from "../../doctor/metrics";
import { boundedRunner, EventTally, parseListen, startMonitor } from "../../doctor/watch";
import type { GraphClient } from "../../remote/graph/client";
import type { PowerShellRunner } from "../../remote/hostScripts";
import { certificate, healthyEstate, key, now } from "./estate";

/** The samples of one metric in a /metrics text: labels as a record, value as a number. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries(
        [...(match[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((entry) => [entry[1], entry[2]]),
      );
      return { labels, value: Number(match[2]) };
    });
}

function event(timeCreated: string, message: string, id = 3, logName = "AuthZAdminCh"): HostEventFacts {
  return { logName, id, level: 2, timeCreated, message };
}

async function exported(metrics: MonitorMetrics, facts: EstateFacts, events: HostEventFacts[] = []) {
  metrics.record({
    facts,
    findings: diagnose(facts),
    newEvents: new Map([["nps01", events]]),
    startedAt: new Date(now.getTime() - 2500),
    finishedAt: now,
  });
  return metrics.registry.metrics();
}

describe("doctor --watch: the monitor", () => {
  describe("metrics of a round", () => {
    it("exports a healthy estate: every check passing, no cause, the certificate's time left, the probe", async () => {
      const facts = healthyEstate();
      facts.npsHosts[0].tokenProbe = {
        ok: true,
        thumbprint: "A".repeat(40),
        aadsts: "",
        problem: "",
        milliseconds: 180,
      };
      const text = await exported(new MonitorMetrics(300, now), facts);
      const status = samples(text, "npsmfa_check_status");
      assert.ok(status.length > 10);
      assert.deepEqual(
        status.filter((sample) => sample.value !== 0),
        [],
      );
      assert.deepEqual(samples(text, "npsmfa_cause"), []);
      const expiry = samples(text, "npsmfa_certificate_expires_in_seconds");
      assert.deepEqual(expiry, [
        { labels: { host: "nps01", thumbprint: "A".repeat(40), in_use: "true" }, value: 400 * 86_400 },
      ]);
      assert.equal(samples(text, "npsmfa_certificate_renewal_in_seconds")[0].value, 340 * 86_400);
      assert.deepEqual(samples(text, "npsmfa_probe_success"), [
        { labels: { host: "nps01", aadsts: "", check: "", fix: "" }, value: 1 },
      ]);
      assert.equal(samples(text, "npsmfa_probe_duration_seconds")[0].value, 0.18);
      assert.deepEqual(samples(text, "npsmfa_radius_timeout_seconds"), [
        { labels: { host: "vpn01", server: "nps01", role: "vpn" }, value: 60 },
        { labels: { host: "proxy01", server: "nps01", role: "proxy" }, value: 60 },
      ]);
      assert.deepEqual(samples(text, "npsmfa_extension_info")[0].labels, {
        host: "nps01",
        version: "1.2.2893.1",
      });
      assert.deepEqual(samples(text, "npsmfa_client_key_info")[0].labels.owner, "server");
      assert.equal(samples(text, "npsmfa_round_duration_seconds")[0].value, 2.5);
      assert.equal(samples(text, "npsmfa_round_complete")[0].value, 1);
      assert.equal(
        samples(text, "npsmfa_last_complete_round_timestamp_seconds")[0].value,
        now.getTime() / 1000,
      );
      assert.match(text, /# HELP npsmfa_check_status .*Run `npm run doctor`/);
      assert.match(text, /# TYPE npsmfa_token_error_events_total counter/);
    });

    it("counts failing rounds per check, names the cause with the doctor's fix, and resets when it passes", async () => {
      const metrics = new MonitorMetrics(300, now);
      const broken = healthyEstate();
      broken.tenant.client.accountEnabled = false;
      broken.npsHosts[0].tokenProbe = {
        ok: false,
        thumbprint: "A".repeat(40),
        aadsts: "AADSTS7000112",
        problem: "token request failed with AADSTS7000112",
        milliseconds: 90,
      };
      await exported(metrics, broken);
      const text = await exported(metrics, broken);
      const failing = samples(text, "npsmfa_check_failing_rounds").find(
        (sample) => sample.labels.check === "client-sp-disabled",
      )!;
      assert.equal(failing.value, 2);
      assert.match(failing.labels.fix, /Update-MgServicePrincipal/);
      const [cause] = samples(text, "npsmfa_cause");
      assert.equal(cause.labels.check, "client-sp-disabled");
      assert.equal(cause.labels.host, "tenant");
      const [probe] = samples(text, "npsmfa_probe_success");
      assert.equal(probe.value, 0);
      assert.equal(probe.labels.check, "client-sp-disabled");
      const healed = await exported(metrics, healthyEstate());
      assert.deepEqual(samples(healed, "npsmfa_cause"), []);
      assert.ok(samples(healed, "npsmfa_check_failing_rounds").every((sample) => sample.value === 0));
      // The healthy estate made no probe: the failed probe's series is gone, not left behind.
      assert.deepEqual(samples(healed, "npsmfa_probe_success"), []);
    });

    it("names the check behind a failed probe: no certificate, no answer, or its AADSTS code", () => {
      const host = healthyEstate().npsHosts[0];
      const probe = { ok: false, thumbprint: "A".repeat(40), aadsts: "", problem: "", milliseconds: 1 };
      assert.equal(probeCheck({ ...probe, thumbprint: "" }, host, now), "certificate-missing");
      assert.equal(probeCheck(probe, host, now), "endpoint-unreachable");
      assert.equal(probeCheck({ ...probe, aadsts: "AADSTS500014" }, host, now), "connector-sp-disabled");
      assert.equal(probeCheck({ ...probe, aadsts: "AADSTS700027" }, host, now), "certificate-not-registered");
      assert.equal(probeCheck({ ...probe, aadsts: "AADSTS50000" }, host, now), "recent-token-errors");
    });

    it("labels each Client key with its owner from the ledger", async () => {
      const facts = healthyEstate();
      const old = certificate("B".repeat(40), -5);
      facts.tenant.client.keyCredentials.push(
        key("nps01", old),
        key("adfs", certificate("C".repeat(40), 90), "ADFS"),
      );
      const owners = samples(
        await exported(new MonitorMetrics(300, now), facts),
        "npsmfa_client_key_info",
      ).map((sample) => [sample.labels.thumbprint, sample.labels.owner, sample.labels.host]);
      assert.deepEqual(owners, [
        ["A".repeat(40), "server", "nps01"],
        ["B".repeat(40), "expired", ""],
        ["C".repeat(40), "foreign", ""],
      ]);
    });

    it("adds events to counters by AADSTS code and the check explaining it, Security events by reason", async () => {
      const metrics = new MonitorMetrics(300, now);
      const at = now.toISOString();
      await exported(metrics, healthyEstate(), [
        event(at, "ESTS_TOKEN_ERROR ... AADSTS7000112: Application is disabled."),
        event(at, "ESTS_TOKEN_ERROR ... AADSTS7000112: Application is disabled."),
        event(at, "Network Policy Server discarded the request. Reason Code: 21", 6274, "Security"),
      ]);
      const text = await exported(metrics, healthyEstate(), [
        event(at, "ESTS_TOKEN_ERROR AADSTS7000112 again"),
      ]);
      const [errors] = samples(text, "npsmfa_token_error_events_total");
      assert.deepEqual(
        [errors.labels.host, errors.labels.aadsts, errors.labels.check, errors.value],
        ["nps01", "AADSTS7000112", "client-sp-disabled", 3],
      );
      assert.deepEqual(samples(text, "npsmfa_security_events_total"), [
        { labels: { host: "nps01", event: "6274", reason: "21" }, value: 1 },
      ]);
    });

    it("marks a server that did not answer down and keeps its last read time", async () => {
      const metrics = new MonitorMetrics(300, now);
      await exported(metrics, healthyEstate());
      const down = healthyEstate();
      down.vpnHosts[0] = {
        hostname: "vpn01",
        unreachable: "vpn01 did not answer within 240 s",
        radiusServers: [],
      };
      const later = new Date(now.getTime() + 300_000);
      metrics.record({
        facts: down,
        findings: diagnose(down),
        newEvents: new Map(),
        startedAt: now,
        finishedAt: later,
      });
      const text = await metrics.registry.metrics();
      assert.deepEqual(
        samples(text, "npsmfa_host_up").map((sample) => [sample.labels.host, sample.value]),
        [
          ["nps01", 1],
          ["vpn01", 0],
          ["proxy01", 1],
        ],
      );
      const lastRead = Object.fromEntries(
        samples(text, "npsmfa_host_last_read_timestamp_seconds").map((sample) => [
          sample.labels.host,
          sample.value,
        ]),
      );
      assert.equal(lastRead.vpn01, now.getTime() / 1000);
      assert.equal(lastRead.nps01, later.getTime() / 1000);
      const unreachable = samples(text, "npsmfa_check_status").find(
        (sample) => sample.labels.check === "host-unreachable",
      );
      assert.deepEqual(unreachable, { labels: { check: "host-unreachable", host: "vpn01" }, value: 2 });
    });
  });

  describe("rounds", () => {
    it("counts each event once across rounds, events at the mark included once", () => {
      const tally = new EventTally(new Date("2026-12-01T10:00:00Z"));
      assert.equal(tally.since(["nps01"]).toISOString(), "2026-12-01T10:00:00.000Z");
      const a = event("2026-12-01T10:01:00.000Z", "a");
      const b = event("2026-12-01T10:02:00.000Z", "b");
      const c = event("2026-12-01T10:02:00.000Z", "c");
      const before = event("2026-12-01T09:59:00.000Z", "before the monitor started");
      assert.deepEqual(tally.take("nps01", [before, a, b]), [a, b]);
      assert.equal(tally.since(["nps01", "nps02"]).toISOString(), "2026-12-01T10:00:00.000Z");
      assert.equal(tally.since(["nps01"]).toISOString(), "2026-12-01T10:02:00.000Z");
      // The next read starts at the mark: b again, and c logged in the same millisecond after the last read.
      assert.deepEqual(tally.take("nps01", [b, c]), [c]);
      assert.deepEqual(tally.take("nps01", [b, c]), []);
    });

    it("gives up on a server after its timeout and sends no second read while the first is out", async () => {
      let release: (value: { stdout: string; stderr: string; exitCode: number }) => void = () => undefined;
      let calls = 0;
      const hanging: PowerShellRunner = {
        runPowerShell: () => {
          calls += 1;
          return new Promise((resolve) => (release = resolve));
        },
      };
      const busy = new Set<string>();
      const runner = boundedRunner("nps01", hanging, 0.05, busy);
      await assert.rejects(runner.runPowerShell("x"), /nps01 did not answer within 0.05 s/);
      await assert.rejects(runner.runPowerShell("x"), /previous round's read has not answered yet/);
      assert.equal(calls, 1);
      release({ stdout: "", stderr: "", exitCode: 0 });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(busy.size, 0);
    });

    it("reads --listen as host and port, and refuses anything else naming the option", () => {
      assert.deepEqual(parseListen("127.0.0.1:9464"), { host: "127.0.0.1", port: 9464 });
      assert.deepEqual(parseListen("[::1]:9464"), { host: "::1", port: 9464 });
      assert.throws(() => parseListen("9464"), /--listen: expected host:port .* found "9464"/);
      assert.throws(() => parseListen("localhost:99999"), /--listen/);
    });

    it("skips and counts a round while the previous one still runs, and serves /metrics and /healthz", async () => {
      let answer: () => void = () => undefined;
      let batches = 0;
      // A tenant read that answers only when the test says so: the first round stays running.
      const graph = {
        getMany: (paths: string[]) => {
          batches += 1;
          return new Promise((resolve) => {
            answer = () =>
              resolve(
                paths.map((entry) => ({
                  id: "0",
                  status: 200,
                  body: {
                    value: [
                      {
                        id: "sp",
                        appId: entry.includes(mfaClientAppId) ? mfaClientAppId : "other",
                        displayName: "sp",
                        accountEnabled: true,
                        keyCredentials: [],
                      },
                    ],
                  },
                })),
              );
          });
        },
      } as unknown as GraphClient;
      const lines: string[] = [];
      let skipped!: () => void;
      let failed!: (error: Error) => void;
      const twoSkipped = new Promise<void>((resolve, reject) => ((skipped = resolve), (failed = reject)));
      const facts = healthyEstate();
      const monitor = await startMonitor({
        config: {
          tenantId: facts.tenant.tenantId,
          cloud: "public",
          npsServers: [],
          vpnServers: [],
          radiusProxies: [],
          extension: {},
        } as never,
        graph,
        runnerFor: () => ({ runPowerShell: () => Promise.reject(new Error("no servers")) }),
        intervalSeconds: 0.2,
        listen: { host: "127.0.0.1", port: 0 },
        log: (line) => {
          lines.push(line);
          if (lines.filter((entry) => entry.includes("skipped")).length === 2) skipped();
          if (line.includes("incomplete")) failed(new Error(line));
        },
      });
      try {
        await twoSkipped;
        assert.equal(batches, 1);
        let text = await (await fetch(`${monitor.url}/metrics`)).text();
        assert.equal(samples(text, "npsmfa_rounds_skipped_total")[0].value, 2);
        answer();
        await new Promise<void>((resolve) => {
          const poll = () =>
            lines.some((line) => /^round 1 complete/.test(line)) ? resolve() : setTimeout(poll, 20);
          poll();
        });
        text = await (await fetch(`${monitor.url}/metrics`)).text();
        assert.ok(
          samples(text, "npsmfa_rounds_total").some(
            (sample) => sample.labels.result === "complete" && sample.value >= 1,
          ),
        );
        assert.match(text, /process_resident_memory_bytes/);
        const health = await fetch(`${monitor.url}/healthz`);
        assert.equal(health.status, 200);
        assert.equal((await fetch(`${monitor.url}/other`)).status, 404);
      } finally {
        answer();
        await monitor.stop();
      }
      assert.match(lines[0], /^round 2 skipped: the previous round is still running$/);
    });
  });
});
