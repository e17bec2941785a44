// The monitor's cost (`npm run doctor -- --watch`) on a running lab, for `npm run bench`: the monitor runs as
// a person runs it (its own process), so its resident memory is its own, read from its /metrics
// (process_resident_memory_bytes); the lab counts the WinRM exchanges and Graph requests it answered.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import type { RunningLab } from "../lab/cli";

const repoRoot = path.resolve(__dirname, "..");

export interface MonitorRoundCost {
  hosts: number;
  roundSeconds: number;
  exchangesPerHost: number;
  scriptRunsPerHost: number;
  /** HTTP requests to Graph's /v1.0 (a $batch is one) in the round. */
  graphRequests: number;
  /** Requests to the token endpoint: the synthetic probe's, one per NPS server, and the monitor's own Graph token. */
  tokenRequests: number;
}

interface MonitorProcess {
  url: string;
  /** Resolves with the round's seconds when the monitor logs round `number` complete. */
  roundComplete(number: number): Promise<number>;
  /** The complete rounds so far in which every server answered (its log names none as not answering). */
  roundsReadingEveryHost(): number;
  stop(): Promise<void>;
}

function startMonitorProcess(labDir: string, intervalSeconds: number): Promise<MonitorProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      "doctor/cli.ts",
      "--lab",
      labDir,
      "--watch",
      "--listen",
      "127.0.0.1:0",
      "--interval",
      String(intervalSeconds),
    ],
    { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const waiters: { pattern: RegExp; resolve(match: RegExpExecArray): void }[] = [];
  let log = "";
  const lines: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => {
    log += chunk.toString();
    const parts = log.split("\n");
    log = parts.pop() ?? "";
    lines.push(...parts);
    for (const line of parts) {
      if (/round \d+ incomplete/.test(line)) console.error(`  monitor: ${line}`);
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(line);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    }
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const seen = lines.map((line) => pattern.exec(line)).find(Boolean);
      if (seen) return resolve(seen);
      waiters.push({ pattern, resolve });
      exited.then(() => reject(new Error(`the monitor exited: ${lines.slice(-5).join("\n")}`)));
    });
  return waitFor(/serving (http:\/\/\S+)\/metrics/).then((match) => ({
    url: match[1],
    roundComplete: async (number) =>
      Number((await waitFor(new RegExp(`^doctor: round ${number} complete in ([\\d.]+) s`)))[1]),
    roundsReadingEveryHost: () =>
      lines.filter((line) => /^doctor: round \d+ complete/.test(line) && !line.includes("not answering"))
        .length,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  }));
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((entry) => entry.startsWith(`${name} `));
  if (!line) throw new Error(`the monitor's /metrics has no ${name}`);
  return Number(line.split(" ")[1]);
}

/** One round on the lab: the monitor's first round, which starts at once (the next is an hour away). */
export async function monitorRoundCost(lab: RunningLab, labDir: string): Promise<MonitorRoundCost> {
  for (const host of lab.hosts.hosts) host.resetCounters();
  lab.graph.clearRequests();
  const monitor = await startMonitorProcess(labDir, 3600);
  try {
    const roundSeconds = await monitor.roundComplete(1);
    const hosts = lab.hosts.hosts.length;
    const total = (what: (host: RunningLab["hosts"]["hosts"][number]) => number) =>
      lab.hosts.hosts.reduce((sum, host) => sum + what(host), 0);
    const requests = lab.graph.requests().filter((request) => !request.inBatch);
    return {
      hosts,
      roundSeconds,
      exchangesPerHost: Math.round((total((host) => host.exchanges) / hosts) * 10) / 10,
      scriptRunsPerHost: total((host) => host.exchangesByAction.Command ?? 0) / hosts,
      graphRequests: requests.filter((request) => request.path.startsWith("/v1.0/")).length,
      tokenRequests: requests.filter((request) => !request.path.startsWith("/v1.0/")).length,
    };
  } finally {
    await monitor.stop();
  }
}

export interface MonitorMemory {
  afterRound10MiB: number;
  afterLastMiB: number;
  rounds: number;
  intervalSeconds: number;
  /** Of those rounds, the ones in which every server answered: a round of timeouts holds no facts. */
  roundsReadingEveryHost: number;
}

/**
 * The monitor's resident memory (MiB) after 10 complete rounds and after `rounds`, a round every
 * `intervalSeconds`: long enough for a round to read every server (each server's timeout is 80 % of it).
 */
export async function monitorMemory(
  labDir: string,
  rounds: number,
  intervalSeconds: number,
): Promise<MonitorMemory> {
  const monitor = await startMonitorProcess(labDir, intervalSeconds);
  const rss = async () =>
    Math.round((await metricValue(monitor.url, "process_resident_memory_bytes")) / 1024 / 1024);
  // Rounds that would overlap are skipped, so round numbers count ticks: count complete rounds instead.
  const completeRounds = async (count: number) => {
    while ((await metricValue(monitor.url, 'npsmfa_rounds_total{result="complete"}')) < count)
      await new Promise((resolve) => setTimeout(resolve, 500));
  };
  try {
    await completeRounds(10);
    const afterRound10MiB = await rss();
    await completeRounds(rounds);
    const afterLastMiB = await rss();
    return {
      afterRound10MiB,
      afterLastMiB,
      rounds,
      intervalSeconds,
      roundsReadingEveryHost: monitor.roundsReadingEveryHost(),
    };
  } finally {
    await monitor.stop();
  }
}
