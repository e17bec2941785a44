// `npm run bench`: what users wait for, measured on the lab and printed with the targets beside it.
//   - The full-fleet drift read (everything a refresh reads) through our providers as the engine calls
//     them (bench/fleetRead.ts), against a baseline in the same run on the same lab: pywinrm running one
//     PowerShell command per setting per host, hosts in parallel (bench/pywinrmBaseline.py). N = 1, 10
//     and 50 hosts (NPS and VPN together, two NPS to one VPN), each case 3 times, medians reported.
//   - The lab's memory with 50 NPS + 25 VPN hosts, every host having run a command.
//   - The size of the lab stack's state and of its largest serialized provider.
//   - The monitor (`npm run doctor -- --watch`): one round at N = 10 and 50 hosts, and its resident memory
//     after 100 rounds at N = 10 (bench/monitorRound.ts).
// Both sides of the comparison pay the same per-command start-up delay on the lab hosts, standing in for
// Windows PowerShell 5.1 starting for each WinRM command (NPSMFA_BENCH_STARTUP_MS, default 1000 ms).
// Figures, not tests: a slow or busy machine prints slow numbers. bench/results.json keeps the medians.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { startProjectEngine } from "../engine/projectEngine";
import { startLab, type RunningLab } from "../lab/cli";
import { closeHostConnections } from "../remote/windows/hostConnections";
import { emptyState, providerKey, type EngineState } from "../engine";
import { SecretsManager } from "../engine/storedProvider";
import { labStack } from "../lab/stackFiles";
import { WinrmClient } from "../remote/winrm";
import { npsSettingCommands, vpnSettingCommands } from "../bench/baselineCommands";
import { readFleet } from "../bench/fleetRead";
import { monitorMemory, monitorRoundCost, type MonitorRoundCost } from "../bench/monitorRound";
import { cpuSeconds, parentPid } from "../lab/processStats";
import { runPywinrmScript, writeLegacyOpensslConfig } from "../tests/winrm/pywinrmRunner";

const repoRoot = path.resolve(__dirname, "..");
const startupDelayMs = Number(process.env.NPSMFA_BENCH_STARTUP_MS ?? 1000);
const repeats = 3;
const sizes = (process.env.NPSMFA_BENCH_SIZES ?? "1,10,50").split(",").map(Number);
// A monitor round at N = 10 takes about 2 s here (each server's command pays the start-up delay); at a 1 s
// interval every server would time out (80 % of it) and the 100 rounds would read nothing.
const monitorMemoryIntervalSeconds = 4;

interface Case {
  hosts: number;
  oursSeconds: number;
  baselineSeconds: number;
  ratio: number;
  exchangesPerHost: number;
  scriptRunsPerHost: number;
  peakMemoryMiB: number;
  /**
   * CPU seconds the lab's PowerShell workers spent on our read: they run every host's scripts on this
   * machine's CPUs, so this over the CPU count is a floor under our wall time that 50 real servers,
   * each running its own script, would not impose.
   */
  labPowerShellCpuSeconds: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;

/** The processes under this one (the lab's PowerShell workers, pywinrm), from /proc. */
function descendants(): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentPid(Number(entry));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(process.pid);
  return found;
}

/** Resident memory of this process and every process under it, in MiB. */
function treeRssMiB(): number {
  let kib = 0;
  for (const pid of [process.pid, ...descendants()]) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // The process ended while we looked.
    }
  }
  return kib / 1024;
}

/** CPU seconds used so far by the processes under this one. */
function descendantsCpuSeconds(): number {
  return descendants().reduce((total, pid) => total + (cpuSeconds(pid) ?? 0), 0);
}

/** Runs `work` while sampling memory; returns its seconds and the peak MiB. */
async function measured<T>(work: () => Promise<T>): Promise<{ seconds: number; peakMiB: number; value: T }> {
  let peakMiB = treeRssMiB();
  const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, treeRssMiB())), 250);
  const started = performance.now();
  try {
    const value = await work();
    return { seconds: (performance.now() - started) / 1000, peakMiB: Math.max(peakMiB, treeRssMiB()), value };
  } finally {
    clearInterval(sampler);
  }
}

function split(hosts: number): { nps: number; vpn: number } {
  const nps = hosts === 1 ? 1 : Math.round((hosts * 2) / 3);
  return { nps, vpn: hosts - nps };
}

async function withLab<T>(
  dir: string,
  counts: { nps: number; vpn: number },
  work: (lab: RunningLab, labDir: string) => Promise<T>,
): Promise<T> {
  const labDir = fs.mkdtempSync(path.join(dir, "lab-"));
  const projectDir = fs.mkdtempSync(path.join(dir, "project-"));
  const lab = await startLab({ dir: labDir, projectDir, ...counts, seed: "healthy" });
  try {
    return await work(lab, labDir);
  } finally {
    await closeHostConnections();
    await lab.stop();
  }
}

function runBaseline(lab: RunningLab, opensslConfig: string): Promise<{ seconds: number; failed: string[] }> {
  const npsNames = lab.description.hosts.filter((host) => host.role === "nps").map((host) => host.name);
  const request = {
    hosts: lab.description.hosts.map((host) => ({
      url: host.winrmUrl,
      auth: "ntlm",
      username: host.username,
      password: host.password,
      caFile: lab.description.caFile,
      scripts:
        host.role === "nps" ? npsSettingCommands(lab.description.tenantId) : vpnSettingCommands(npsNames),
    })),
  };
  return runPywinrmScript(path.join(repoRoot, "bench", "pywinrmBaseline.py"), request, opensslConfig);
}

const counted = (lab: RunningLab, what: (host: RunningLab["hosts"]["hosts"][number]) => number) =>
  lab.hosts.hosts.reduce((total, host) => total + what(host), 0);

async function benchCase(dir: string, hosts: number, opensslConfig: string): Promise<Case> {
  return withLab(dir, split(hosts), async (lab) => {
    const stack = labStack(lab.description);
    const engine = await startProjectEngine(stack);
    let state: EngineState;
    try {
      state = (await engine.up(emptyState())).state;
    } finally {
      await engine.stop();
    }
    const config = new SecretsManager().load(state.provider!).config;
    const ours: { seconds: number; peakMiB: number; exchanges: number; runs: number; labCpu: number }[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < repeats; round++) {
      // Cold each time: new connections and handshakes, a new Graph token.
      await closeHostConnections();
      for (const host of lab.hosts.hosts) host.resetCounters();
      const labCpuBefore = descendantsCpuSeconds();
      const run = await measured(() => readFleet(state, config, "npsmfa"));
      const labCpu = descendantsCpuSeconds() - labCpuBefore;
      if (run.value.failures.length > 0) throw new Error(`our read failed: ${run.value.failures.join("; ")}`);
      ours.push({
        seconds: run.seconds,
        peakMiB: run.peakMiB,
        exchanges: counted(lab, (host) => host.exchanges),
        runs: counted(lab, (host) => host.exchangesByAction.Command ?? 0),
        labCpu,
      });
      const other = await runBaseline(lab, opensslConfig);
      if (other.failed.length > 0) throw new Error(`baseline failed: ${other.failed.slice(0, 3).join("; ")}`);
      baseline.push(other.seconds);
    }
    const oursSeconds = median(ours.map((run) => run.seconds));
    const baselineSeconds = median(baseline);
    return {
      hosts,
      oursSeconds: round(oursSeconds),
      baselineSeconds: round(baselineSeconds),
      ratio: round(baselineSeconds / oursSeconds, 1),
      exchangesPerHost: round(median(ours.map((run) => run.exchanges)) / hosts, 1),
      scriptRunsPerHost: round(median(ours.map((run) => run.runs)) / hosts, 1),
      peakMemoryMiB: Math.round(median(ours.map((run) => run.peakMiB))),
      labPowerShellCpuSeconds: round(median(ours.map((run) => run.labCpu))),
    };
  });
}

/** Every host of a 50 + 25 lab runs one command at once; the lab's resident memory after that. */
async function benchLabMemory(dir: string): Promise<number> {
  return withLab(dir, { nps: 50, vpn: 25 }, async (lab) => {
    await Promise.all(
      lab.description.hosts.map(async (host) => {
        const client = new WinrmClient({
          hostname: host.name,
          endpoint: {
            url: host.winrmUrl,
            auth: "ntlm",
            username: host.username,
            caFile: lab.description.caFile,
            operationTimeoutSeconds: 300,
          },
          password: host.password,
        });
        try {
          await client.runPowerShell("(Get-Service -Name IAS -ErrorAction SilentlyContinue).Status");
        } finally {
          await client.close();
        }
      }),
    );
    return treeRssMiB();
  });
}

async function benchState(dir: string): Promise<{ stateKiB: number; providerKiB: number }> {
  return withLab(dir, { nps: 2, vpn: 1 }, async (lab) => {
    const engine = await startProjectEngine(labStack(lab.description));
    try {
      const { state } = await engine.up(emptyState());
      const providers = state.resources.flatMap((resource) =>
        resource.custom ? [resource.inputs[providerKey], resource.outputs[providerKey]] : [],
      );
      return {
        stateKiB: round(Buffer.byteLength(JSON.stringify(state)) / 1024, 1),
        providerKiB: round(Math.max(...providers.map((text) => Buffer.byteLength(String(text)))) / 1024, 1),
      };
    } finally {
      await engine.stop();
    }
  });
}

function verdict(ok: boolean): string {
  return ok ? "meets" : "MISSES";
}

async function main(): Promise<void> {
  // The lab hosts read the delay when they start; the baseline and our read meet the same hosts.
  process.env.NPSMFA_LAB_PWSH_STARTUP_MS = String(startupDelayMs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-bench-"));
  const opensslConfig = writeLegacyOpensslConfig(dir);
  const cases: Case[] = [];
  try {
    console.log(
      `Full-fleet drift read, ours vs pywinrm one command per setting; lab start-up delay ${startupDelayMs} ms per ` +
        `PowerShell command on both sides; median of ${repeats}; ${os.cpus().length} CPUs`,
    );
    for (const hosts of sizes) {
      const result = await benchCase(dir, hosts, opensslConfig);
      cases.push(result);
      console.error(`  N=${hosts} done`);
    }
    const memoryMiB = await benchLabMemory(dir);
    const state = await benchState(dir);
    const monitorRounds: MonitorRoundCost[] = [];
    for (const hosts of [10, 50])
      monitorRounds.push(await withLab(dir, split(hosts), (lab, labDir) => monitorRoundCost(lab, labDir)));
    const monitorRss = await withLab(dir, split(10), (_lab, labDir) =>
      monitorMemory(labDir, 100, monitorMemoryIntervalSeconds),
    );

    const header = [
      "hosts",
      "ours s",
      "pywinrm s",
      "ratio",
      "exchanges/host",
      "script runs/host",
      "peak MiB",
      "lab pwsh CPU s",
    ];
    const rows = cases.map((c) => [
      c.hosts,
      c.oursSeconds,
      c.baselineSeconds,
      `${c.ratio}x`,
      c.exchangesPerHost,
      c.scriptRunsPerHost,
      c.peakMemoryMiB,
      c.labPowerShellCpuSeconds,
    ]);
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => String(row[column]).length)),
    );
    const line = (cells: unknown[]) =>
      cells.map((cell, column) => String(cell).padStart(widths[column])).join("  ");
    console.log(line(header));
    for (const row of rows) console.log(line(row));

    const at = (hosts: number) => cases.find((c) => c.hosts === hosts);
    const ten = at(10);
    const one = at(1);
    const fifty = at(50);
    const worstExchanges = Math.max(...cases.map((c) => c.exchangesPerHost));
    console.log("Targets:");
    if (ten) console.log(`  ratio at N=10 >= 5x: ${ten.ratio}x (${verdict(ten.ratio >= 5)})`);
    console.log(
      `  HTTP exchanges per host <= 8: ${worstExchanges} at most (${verdict(worstExchanges <= 8)})`,
    );
    if (one && fifty) {
      const growth = round(fifty.oursSeconds / one.oursSeconds, 1);
      const cpus = os.cpus().length;
      const floor = round(fifty.labPowerShellCpuSeconds / cpus + startupDelayMs / 1000, 1);
      console.log(
        `  N=50 within 2x of N=1: ${growth}x (${verdict(growth <= 2)}; the lab's PowerShell alone needs ` +
          `${fifty.labPowerShellCpuSeconds} CPU s for 50 hosts, at least ${floor} s on ${cpus} CPUs with the delay)`,
      );
    }
    console.log(
      `  lab memory at 50 NPS + 25 VPN < 6144 MiB: ${Math.round(memoryMiB)} MiB (${verdict(memoryMiB < 6144)})`,
    );
    console.log(
      `  state of the 2 NPS + 1 VPN lab stack <= 200 KiB: ${state.stateKiB} KiB (${verdict(state.stateKiB <= 200)})`,
    );
    console.log(
      `  largest serialized provider <= 8 KiB: ${state.providerKiB} KiB (${verdict(state.providerKiB <= 8)})`,
    );

    console.log("Monitor (npm run doctor -- --watch), one round:");
    for (const cost of monitorRounds)
      console.log(
        `  N=${cost.hosts}: ${cost.roundSeconds} s, ${cost.exchangesPerHost} exchanges/host, ` +
          `${cost.scriptRunsPerHost} script run/host (${verdict(cost.scriptRunsPerHost === 1)}: 1), ` +
          `${cost.graphRequests} Graph request (${verdict(cost.graphRequests === 1)}: 1), ` +
          `${cost.tokenRequests} token requests (the probes and the monitor's Graph token)`,
      );
    const growth = monitorRss.afterLastMiB - monitorRss.afterRound10MiB;
    console.log(
      `  memory at N=10: ${monitorRss.afterRound10MiB} MiB after 10 rounds, ${monitorRss.afterLastMiB} MiB after ` +
        `${monitorRss.rounds} (${verdict(growth <= 0.1 * monitorRss.afterRound10MiB)}: flat, within 10 %); a round ` +
        `every ${monitorRss.intervalSeconds} s, ${monitorRss.roundsReadingEveryHost} of them reading every server`,
    );

    fs.mkdirSync(path.join(repoRoot, "bench"), { recursive: true });
    fs.writeFileSync(
      path.join(repoRoot, "bench", "results.json"),
      JSON.stringify(
        {
          startupDelayMs,
          repeats,
          cpus: os.cpus().length,
          cases,
          labMemoryMiB50x25: Math.round(memoryMiB),
          ...state,
          monitorRounds,
          monitorMemory: monitorRss,
        },
        null,
        2,
      ) + "\n",
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
