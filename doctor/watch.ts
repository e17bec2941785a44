// `npm run doctor -- --watch --listen <host:port>`: the doctor as a monitor. Every interval one round reads the
// tenant (one Graph $batch) and every server (one Doctor.ps1 run each, with the synthetic token probe on NPS
// servers, all at once), judges it with the doctor's checks and exports the result on /metrics for Prometheus.
// Reads only, like the doctor. A round never overlaps the next: a tick while one runs is skipped and counted;
// a server that does not answer within its timeout is reported down and the other servers' reads go on.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { StackConfig, WinrmEndpointConfig } from "../config/schema";
import type { GraphClient } from "../remote/graph/client";
import type { PowerShellRunner } from "../remote/hostScripts";
import { causeOf, diagnose } from "./diagnose";
import type { EstateFacts, HostEventFacts } from "./facts";
import { gatherFacts } from "./gather";
import { MonitorMetrics } from "./metrics";

export interface MonitorOptions {
  config: StackConfig;
  graph: GraphClient;
  runnerFor(hostname: string, endpoint: WinrmEndpointConfig): PowerShellRunner;
  intervalSeconds: number;
  /** How long one server's read may take; default 80 % of the interval, so a round ends before the next tick. */
  hostTimeoutSeconds?: number;
  listen: { host: string; port: number };
  /** One line per round (and per skipped round). */
  log(line: string): void;
}

export interface RunningMonitor {
  /** http://host:port of /metrics and /healthz. */
  url: string;
  metrics: MonitorMetrics;
  stop(): Promise<void>;
}

/** `--listen 127.0.0.1:9464` or `[::1]:9464`: host and port, or an error naming the option. */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new Error(
      `--listen: expected host:port such as 127.0.0.1:9464 (Prometheus's port for exporters), found ${JSON.stringify(text)}`,
    );
  return { host: match[1] ?? match[2], port };
}

function eventKey(event: HostEventFacts): string {
  return `${event.logName}\u0000${event.id}\u0000${event.timeCreated}\u0000${event.message}`;
}

/**
 * Counts each server's events once across rounds: per server, the time of the newest event counted and the
 * events at exactly that time (events at the mark may repeat in the next read). Memory stays per server.
 */
export class EventTally {
  private readonly marks = new Map<string, { time: number; keys: Set<string> }>();

  constructor(private readonly startedAt: Date) {}

  /** Where the next read must start: the oldest mark (the monitor's start for a server not read yet). */
  since(hostnames: readonly string[]): Date {
    const times = hostnames.map((name) => this.marks.get(name)?.time ?? this.startedAt.getTime());
    return new Date(times.length > 0 ? Math.min(...times) : this.startedAt.getTime());
  }

  /** The events not counted before, and the mark moved past them. */
  take(hostname: string, events: readonly HostEventFacts[]): HostEventFacts[] {
    const mark = this.marks.get(hostname) ?? { time: this.startedAt.getTime(), keys: new Set<string>() };
    const fresh = events.filter((event) => {
      const time = Date.parse(event.timeCreated);
      return time > mark.time || (time === mark.time && !mark.keys.has(eventKey(event)));
    });
    const newest = Math.max(mark.time, ...fresh.map((event) => Date.parse(event.timeCreated)));
    const keys = newest === mark.time ? new Set(mark.keys) : new Set<string>();
    for (const event of fresh) if (Date.parse(event.timeCreated) === newest) keys.add(eventKey(event));
    this.marks.set(hostname, { time: newest, keys });
    return fresh;
  }
}

/**
 * A runner that gives up on a server after `seconds`, and never sends a server a second read while its
 * last one is still out: that read's round reported the server down, and so does this one.
 */
export function boundedRunner(
  hostname: string,
  runner: PowerShellRunner,
  seconds: number,
  busy: Set<string>,
): PowerShellRunner {
  return {
    runPowerShell(script) {
      if (busy.has(hostname))
        return Promise.reject(
          new Error(`${hostname}: the previous round's read has not answered yet (timeout ${seconds} s)`),
        );
      busy.add(hostname);
      const run = runner.runPowerShell(script).finally(() => busy.delete(hostname));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`${hostname} did not answer within ${seconds} s (WinRM); its series are stale`)),
          seconds * 1000,
        );
      });
      return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
    },
  };
}

function describeRound(facts: EstateFacts, cause: string | null): string {
  const down = [...facts.npsHosts, ...facts.vpnHosts, ...facts.proxyHosts]
    .filter((host) => host.unreachable)
    .map((host) => host.hostname);
  const probes = facts.npsHosts
    .filter((host) => host.tokenProbe && !host.tokenProbe.ok)
    .map((host) => host.hostname);
  return [
    cause ? `cause ${cause}` : "no check fails",
    ...(down.length > 0 ? [`not answering: ${down.join(", ")}`] : []),
    ...(probes.length > 0 ? [`token probe failed on ${probes.join(", ")}`] : []),
  ].join("; ");
}

export async function startMonitor(options: MonitorOptions): Promise<RunningMonitor> {
  const { config, intervalSeconds } = options;
  const startedAt = new Date();
  const metrics = new MonitorMetrics(intervalSeconds, startedAt);
  const tally = new EventTally(startedAt);
  const hostTimeout = options.hostTimeoutSeconds ?? Math.max(1, intervalSeconds * 0.8);
  const busy = new Set<string>();
  const npsNames = config.npsServers.map((server) => server.hostname);
  let roundNumber = 0;
  let running: Promise<void> | undefined;

  async function round(number: number): Promise<void> {
    const started = new Date();
    try {
      const facts = await gatherFacts(config, {
        graph: options.graph,
        runnerFor: (hostname, endpoint) =>
          boundedRunner(hostname, options.runnerFor(hostname, endpoint), hostTimeout, busy),
        since: tally.since(npsNames),
        now: started,
        probeToken: true,
      });
      const findings = diagnose(facts);
      const newEvents = new Map(
        facts.npsHosts
          .filter((host) => !host.unreachable)
          .map((host) => [host.hostname, tally.take(host.hostname, host.events)]),
      );
      const finished = new Date();
      metrics.record({ facts, findings, newEvents, startedAt: started, finishedAt: finished });
      const seconds = ((finished.getTime() - started.getTime()) / 1000).toFixed(1);
      options.log(`round ${number} complete in ${seconds} s: ${describeRound(facts, causeOf(findings))}`);
    } catch (error) {
      const finished = new Date();
      metrics.recordIncomplete(started, finished);
      const seconds = ((finished.getTime() - started.getTime()) / 1000).toFixed(1);
      options.log(
        `round ${number} incomplete after ${seconds} s: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  function tick(): void {
    roundNumber += 1;
    if (running) {
      metrics.recordSkipped();
      options.log(`round ${roundNumber} skipped: the previous round is still running`);
      return;
    }
    running = round(roundNumber).finally(() => (running = undefined));
  }

  const server = http.createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { Allow: "GET" }).end();
    } else if (path === "/metrics") {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    } else if (path === "/healthz") {
      // Healthy while rounds complete: at most three intervals since the last (or since the start).
      const last = metrics.lastCompleteAt.getTime();
      const healthy = Date.now() - last <= 3 * intervalSeconds * 1000;
      response
        .writeHead(healthy ? 200 : 503, { "Content-Type": "text/plain" })
        .end(`${healthy ? "ok" : "stale"}: last complete round ${new Date(last).toISOString()}\n`);
    } else {
      response
        .writeHead(404, { "Content-Type": "text/plain" })
        .end("npsmfa monitor: GET /metrics or /healthz\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  tick();
  const timer = setInterval(tick, intervalSeconds * 1000);
  return {
    url: `http://${host}:${address.port}`,
    metrics,
    async stop() {
      clearInterval(timer);
      await running;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
