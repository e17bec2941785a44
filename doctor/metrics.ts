// What the monitor (`npm run doctor -- --watch`) exports to Prometheus, built with prom-client. Names follow
// Prometheus's naming guide (https://prometheus.io/docs/practices/naming/): the npsmfa_ prefix, base units
// (seconds), `_total` for counters, `_info` for a series whose labels are the value. Each round replaces the
// per-round series in one synchronous step, so a scrape never sees half a round.
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { CheckId, Finding, FindingStatus, fixes } from "./checks";
import { aadstsCode, certificateInUse, checkForAadsts, ledgerEntries, reasonCode } from "./diagnose";
import type { EstateFacts, HostEventFacts, NpsHostFacts, TokenProbeFacts } from "./facts";

const day = 86_400;
const statusValue: Record<FindingStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** One finished round: what was read and judged, and the events on each host not counted before. */
export interface RoundResult {
  facts: EstateFacts;
  findings: Finding[];
  /** By host name: AuthZ and Security events first seen this round. */
  newEvents: Map<string, HostEventFacts[]>;
  startedAt: Date;
  finishedAt: Date;
}

function hostOf(facts: EstateFacts, hostname: string): NpsHostFacts | undefined {
  return facts.npsHosts.find((host) => host.hostname === hostname);
}

/**
 * The check that explains a failed probe: no certificate to sign with, no answer from the login endpoint
 * (no AADSTS code), or the check its AADSTS code points to (recent-token-errors for a code none explains).
 */
export function probeCheck(probe: TokenProbeFacts, host: NpsHostFacts, now: Date): CheckId {
  if (!probe.thumbprint) return "certificate-missing";
  if (!probe.aadsts) return "endpoint-unreachable";
  return checkForAadsts(probe.aadsts.replace(/^AADSTS/, ""), host, now) ?? "recent-token-errors";
}

export class MonitorMetrics {
  readonly registry = new Registry();
  private readonly failingRounds = new Map<string, number>();
  /** When the last complete round finished; the monitor's start until one has. */
  lastCompleteAt: Date;

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  readonly checkStatus = this.gauge(
    "npsmfa_check_status",
    "Status of each doctor check where it applies (0 pass, 1 warn, 2 fail); 2 means MFA sign-ins for VPN fail there. Run `npm run doctor` for the evidence and the fix.",
    ["check", "host"],
  );
  readonly checkFailingRounds = this.gauge(
    "npsmfa_check_failing_rounds",
    "Consecutive monitor rounds in which this check failed here (0 when it passes); the fix label is the doctor's fix.",
    ["check", "host", "fix"],
  );
  readonly cause = this.gauge(
    "npsmfa_cause",
    "1 for the doctor's cause: the first failing check, the one that explains why sign-in fails now. Absent when nothing fails.",
    ["check", "host", "fix"],
  );
  readonly certificateExpiry = this.gauge(
    "npsmfa_certificate_expires_in_seconds",
    "Seconds until each NPS extension certificate on a server expires (negative: expired). in_use=true is the one IAS signs with; renew it before it runs out (`pulumi up --refresh`).",
    ["host", "thumbprint", "in_use"],
  );
  readonly certificateRenewal = this.gauge(
    "npsmfa_certificate_renewal_in_seconds",
    "Seconds until each NPS extension certificate enters the server's renewal window (certificateRenewalDays); negative: inside the window, renew it (`pulumi up --refresh`).",
    ["host", "thumbprint", "in_use"],
  );
  readonly clientKey = this.gauge(
    "npsmfa_client_key_info",
    "Each key on the Azure Multi-Factor Auth Client service principal and its owner by the credential ledger: server (host uses it), foreign (not npsmfa's: keep it), orphaned or expired (npsmfa's, unused: remove it when no server needs it).",
    ["key_id", "thumbprint", "owner", "host"],
  );
  readonly tokenErrors = this.counter(
    "npsmfa_token_error_events_total",
    "AuthZ event 3 (ESTS_TOKEN_ERROR) on an NPS server since the monitor started, by AADSTS code, the doctor check that explains it and its fix; a rise means sign-ins are failing now.",
    ["host", "aadsts", "check", "fix"],
  );
  readonly securityEvents = this.counter(
    "npsmfa_security_events_total",
    "Security events 6273 (access denied) and 6274 (request discarded) on an NPS server since the monitor started, by reason code (Learn: NPS reason codes).",
    ["host", "event", "reason"],
  );
  readonly radiusTimeout = this.gauge(
    "npsmfa_radius_timeout_seconds",
    "How long a VPN server (role vpn) or RADIUS proxy (role proxy) waits for the NPS server it forwards to; under 60 s a phone approval times out (check radius-timeout-short / proxy-timeout-short).",
    ["host", "server", "role"],
  );
  readonly extensionInfo = this.gauge(
    "npsmfa_extension_info",
    "The NPS extension version installed on each NPS server (check extension-version).",
    ["host", "version"],
  );
  readonly probeSuccess = this.gauge(
    "npsmfa_probe_success",
    "1 when the synthetic probe (the token request the NPS extension makes, made on the server with the certificate it signs with) got a token; 0 with the AADSTS code, the check that explains it and its fix.",
    ["host", "aadsts", "check", "fix"],
  );
  readonly probeDuration = this.gauge(
    "npsmfa_probe_duration_seconds",
    "How long the synthetic token request took on the server.",
    ["host"],
  );
  readonly hostUp = this.gauge(
    "npsmfa_host_up",
    "1 when the server answered this round's read; 0 when it did not within its timeout (its other series are then absent or stale; check host-unreachable).",
    ["host", "role"],
  );
  readonly hostLastRead = this.gauge(
    "npsmfa_host_last_read_timestamp_seconds",
    "Unix time of the last read of the server that answered; time() minus this is how stale its series are.",
    ["host"],
  );
  readonly roundDuration = this.gauge("npsmfa_round_duration_seconds", "How long the last round took.");
  readonly roundComplete = this.gauge(
    "npsmfa_round_complete",
    "1 when the last round read the tenant and tried every server; 0 when it stopped (the monitor's stderr says why).",
  );
  readonly lastCompleteRound = this.gauge(
    "npsmfa_last_complete_round_timestamp_seconds",
    "Unix time the last complete round finished (the monitor's start until one has); older than three intervals means the monitor is stuck or failing: read its stderr.",
  );
  readonly interval = this.gauge(
    "npsmfa_round_interval_seconds",
    "Seconds between the starts of two rounds (--interval).",
  );
  readonly rounds = this.counter(
    "npsmfa_rounds_total",
    "Rounds run since the monitor started, by result (complete, incomplete).",
    ["result"],
  );
  readonly roundsSkipped = this.counter(
    "npsmfa_rounds_skipped_total",
    "Rounds not started because the previous one was still running; rising means --interval is shorter than a round takes.",
    [],
  );

  constructor(intervalSeconds: number, startedAt: Date) {
    collectDefaultMetrics({ register: this.registry });
    this.interval.set(intervalSeconds);
    this.lastCompleteAt = startedAt;
    this.lastCompleteRound.set(startedAt.getTime() / 1000);
    this.rounds.inc({ result: "complete" }, 0);
    this.rounds.inc({ result: "incomplete" }, 0);
    this.roundsSkipped.inc(0);
  }

  /** A round that stopped before it had facts (the tenant could not be read). */
  recordIncomplete(startedAt: Date, finishedAt: Date): void {
    this.roundDuration.set((finishedAt.getTime() - startedAt.getTime()) / 1000);
    this.roundComplete.set(0);
    this.rounds.inc({ result: "incomplete" });
  }

  recordSkipped(): void {
    this.roundsSkipped.inc();
  }

  /** Replaces every per-round series with this round's; adds this round's new events to the counters. */
  record(round: RoundResult): void {
    const { facts, findings } = round;
    const now = new Date(facts.now);
    this.recordChecks(findings);
    this.recordCertificates(facts, now);
    this.clientKey.reset();
    for (const entry of ledgerEntries(facts, now))
      this.clientKey.set(
        { key_id: entry.keyId, thumbprint: entry.thumbprint, owner: entry.owner, host: entry.host },
        1,
      );
    this.recordEvents(round);
    this.radiusTimeout.reset();
    for (const vpn of facts.vpnHosts)
      for (const server of vpn.radiusServers.filter((entry) => entry.purpose === "Authentication"))
        this.radiusTimeout.set(
          { host: vpn.hostname, server: server.serverName, role: "vpn" },
          server.timeoutSeconds,
        );
    for (const proxy of facts.proxyHosts)
      for (const server of proxy.remoteServers)
        this.radiusTimeout.set(
          { host: proxy.hostname, server: server.address, role: "proxy" },
          server.timeoutSeconds,
        );
    this.extensionInfo.reset();
    this.probeSuccess.reset();
    this.probeDuration.reset();
    for (const host of facts.npsHosts) {
      if (host.extensionVersion)
        this.extensionInfo.set({ host: host.hostname, version: host.extensionVersion }, 1);
      const probe = host.tokenProbe;
      if (!probe) continue;
      const check = probe.ok ? "" : probeCheck(probe, host, now);
      this.probeSuccess.set(
        { host: host.hostname, aadsts: probe.aadsts, check, fix: check ? fixes[check](host.hostname) : "" },
        probe.ok ? 1 : 0,
      );
      this.probeDuration.set({ host: host.hostname }, probe.milliseconds / 1000);
    }
    this.hostUp.reset();
    const servers = [
      ...facts.npsHosts.map((host) => ({ host, role: "nps" })),
      ...facts.vpnHosts.map((host) => ({ host, role: "vpn" })),
      ...facts.proxyHosts.map((host) => ({ host, role: "proxy" })),
    ];
    for (const { host, role } of servers) {
      this.hostUp.set({ host: host.hostname, role }, host.unreachable ? 0 : 1);
      if (!host.unreachable)
        this.hostLastRead.set({ host: host.hostname }, round.finishedAt.getTime() / 1000);
    }
    this.roundDuration.set((round.finishedAt.getTime() - round.startedAt.getTime()) / 1000);
    this.roundComplete.set(1);
    this.lastCompleteAt = round.finishedAt;
    this.lastCompleteRound.set(round.finishedAt.getTime() / 1000);
    this.rounds.inc({ result: "complete" });
  }

  private recordChecks(findings: Finding[]): void {
    // A check can report more than once at one place (one line per endpoint): the worst one counts.
    const worst = new Map<string, { id: CheckId; where: string; status: number }>();
    for (const finding of findings) {
      const key = `${finding.id}\u0000${finding.where}`;
      const status = statusValue[finding.status];
      if ((worst.get(key)?.status ?? -1) < status)
        worst.set(key, { id: finding.id, where: finding.where, status });
    }
    this.checkStatus.reset();
    this.checkFailingRounds.reset();
    const failing = new Map<string, number>();
    for (const [key, { id, where, status }] of worst) {
      this.checkStatus.set({ check: id, host: where }, status);
      const rounds = status === statusValue.fail ? (this.failingRounds.get(key) ?? 0) + 1 : 0;
      if (rounds > 0) failing.set(key, rounds);
      this.checkFailingRounds.set({ check: id, host: where, fix: fixes[id](where) }, rounds);
    }
    // Only this round's failing checks are kept: a check that passed or vanished starts again from 0.
    this.failingRounds.clear();
    for (const [key, rounds] of failing) this.failingRounds.set(key, rounds);
    this.cause.reset();
    const cause = findings.find((finding) => finding.status === "fail");
    if (cause) this.cause.set({ check: cause.id, host: cause.where, fix: cause.fix }, 1);
  }

  private recordCertificates(facts: EstateFacts, now: Date): void {
    this.certificateExpiry.reset();
    this.certificateRenewal.reset();
    for (const host of facts.npsHosts) {
      const inUse = certificateInUse(host, now)?.thumbprint;
      const renewalDays = facts.renewalDays[host.hostname] ?? 60;
      for (const certificate of host.certificates) {
        const labels = {
          host: host.hostname,
          thumbprint: certificate.thumbprint,
          in_use: String(certificate.thumbprint === inUse),
        };
        const left = (Date.parse(certificate.notAfter) - now.getTime()) / 1000;
        this.certificateExpiry.set(labels, left);
        this.certificateRenewal.set(labels, left - renewalDays * day);
      }
    }
  }

  private recordEvents(round: RoundResult): void {
    const now = new Date(round.facts.now);
    for (const [hostname, events] of round.newEvents) {
      const host = hostOf(round.facts, hostname);
      for (const event of events) {
        if (event.logName === "Security") {
          const reason = reasonCode(event.message) ?? "";
          this.securityEvents.inc({ host: hostname, event: String(event.id), reason });
        } else if (event.id === 3) {
          const code = aadstsCode(event.message);
          const check = (host && code ? checkForAadsts(code, host, now) : undefined) ?? "recent-token-errors";
          this.tokenErrors.inc({
            host: hostname,
            aadsts: code ? `AADSTS${code}` : "",
            check,
            fix: fixes[check](hostname),
          });
        }
      }
    }
  }
}
