// Warm PowerShell for the lab: a few pwsh workers (lab/windows/WarmPowerShell.cs), shared by every lab host
// in this process, each running one command at a time in a fresh runspace. Starting `dotnet pwsh` costs
// about 2 s of CPU and 200 MiB, so a process per WinRM command made the lab, not our client, the thing
// measured, and 75 hosts did not fit in memory. Workers start on demand up to `maxWorkers`; a command
// that finds all of them busy waits its turn. A command that is terminated (Signal, shell Delete) takes
// its worker with it: the process is killed and a fresh one starts when needed, so nothing of a stopped
// command lingers.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PwshCommand } from "../../scripts/powershell";
import { cpuSeconds } from "../processStats";

const serverSource = path.join(__dirname, "..", "windows", "WarmPowerShell.cs");
/** Imported into each worker's next runspace ahead of time: the module nearly every command starts with. */
const defaultShim = path.join(__dirname, "..", "windows", "WindowsShim.psm1");

/** What a pooled command reports: output as it comes, then one exit. */
export interface PooledRunEvents {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  exit(code: number): void;
}

export interface PooledRun {
  /** Standard input for `$input`; `end` closes it. Written before the command starts, it is kept. */
  write(data: Buffer, end: boolean): void;
  /** Stops the command: its worker is killed, and the run exits with 1 if it had not exited yet. */
  terminate(): void;
}

interface Job {
  script: string;
  env: Record<string, string>;
  events: PooledRunEvents;
  /** Input messages not yet sent: the job waits for a worker. */
  pending: string[];
  worker?: Worker;
  done: boolean;
}

type WorkerMessage = {
  type: "ready" | "stdout" | "stderr" | "exit";
  data?: string;
  code?: number;
  pid?: number;
};

class Worker {
  private readonly child: ChildProcess;
  private buffered = "";
  ready = false;
  job: Job | undefined;
  /** The PowerShell process itself (under `dotnet pwsh`, two processes below the child). */
  private pid: number | undefined;
  /** The CPU time of the running job when the pool last looked (see `computing`). */
  private sample: { job: Job; cpu: number; at: number } | undefined;

  constructor(
    pool: PowerShellPool,
    private readonly onGone: (worker: Worker, reason: string) => void,
    /** The worker is free for the next command. */
    private readonly onFree: () => void,
  ) {
    const dll = pool.assemblyPath();
    // Compiles the server once per source and PowerShell version; later workers load the cached assembly.
    const bootstrap = [
      "$ErrorActionPreference = 'Stop'",
      "$dll = $env:NPSMFA_WARM_ASSEMBLY",
      "if (-not (Test-Path -LiteralPath $dll)) {",
      '  $tmp = "$dll.$PID.tmp"',
      "  Add-Type -Path $env:NPSMFA_WARM_SOURCE -OutputAssembly $tmp -OutputType Library",
      "  Move-Item -LiteralPath $tmp -Destination $dll -Force",
      "}",
      "Add-Type -Path $dll",
      "[NpsmfaLab.WarmPowerShell]::Serve()",
    ].join("\n");
    this.child = spawn(
      pool.pwsh.command,
      [...pool.pwsh.args, "-NoProfile", "-NonInteractive", "-EncodedCommand", encode(bootstrap)],
      {
        cwd: pool.cwd,
        env: {
          ...process.env,
          NO_COLOR: "1",
          NPSMFA_WARM_ASSEMBLY: dll,
          NPSMFA_WARM_SOURCE: serverSource,
          NPSMFA_WARM_SHIM: defaultShim,
          // Measured on a warm worker: a host's full NPS read took 180 ms of CPU under .NET's default tiered
          // compilation and 95 ms with every method compiled optimized at once, its runspace 33 ms and 22.
          // A worker then needs about 0.9 s more CPU to start, which its first ten commands repay.
          DOTNET_TieredCompilation: "0",
        },
        stdio: ["pipe", "pipe", "pipe"],
        // A process group of its own: `dotnet pwsh` runs pwsh two processes down, and all must stop together.
        detached: true,
      },
    );
    this.child.stdin?.on("error", () => undefined);
    this.child.stdout?.on("data", (chunk: Buffer) => this.receive(chunk.toString("utf8")));
    let stderr = "";
    this.child.stderr?.on(
      "data",
      (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)),
    );
    this.child.on("error", (error) => this.onGone(this, error.message));
    this.child.on("close", (code, signal) =>
      this.onGone(
        this,
        `the worker exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ""}`,
      ),
    );
    // The lab's servers keep the process alive while hosts run; idle workers must not.
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr])
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private onReady: (() => void) | undefined;

  whenReady(callback: () => void): void {
    if (this.ready) callback();
    else this.onReady = callback;
  }

  start(job: Job): void {
    this.job = job;
    job.worker = this;
    this.send({ type: "run", script: job.script, env: job.env });
    for (const message of job.pending.splice(0)) this.sendLine(message);
  }

  /**
   * Whether the running job used at least 2% of a CPU since the pool last asked: true for a script
   * that computes (or waits only for a CPU), false for one that sleeps or waits for stdin. Undefined the
   * first time it is asked about a job, or where CPU time cannot be read.
   */
  computing(now: number): boolean | undefined {
    const job = this.job;
    const cpu = this.pid === undefined ? undefined : cpuSeconds(this.pid);
    if (!job || cpu === undefined) return undefined;
    const before = this.sample?.job === job ? this.sample : undefined;
    this.sample = { job, cpu, at: now };
    if (!before) return undefined;
    return cpu - before.cpu >= ((now - before.at) / 1000) * computingShare;
  }

  sendLine(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  kill(): void {
    const pid = this.child.pid;
    try {
      if (pid !== undefined) process.kill(-pid, "SIGKILL");
    } catch {
      this.child.kill("SIGKILL");
    }
  }

  private send(message: object): void {
    this.sendLine(JSON.stringify(message));
  }

  private receive(text: string): void {
    this.buffered += text;
    let newline: number;
    while ((newline = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      if (line.trim()) this.handle(JSON.parse(line) as WorkerMessage);
    }
  }

  private handle(message: WorkerMessage): void {
    if (message.type === "ready") {
      this.ready = true;
      this.pid = message.pid;
      const callback = this.onReady;
      this.onReady = undefined;
      callback?.();
      return;
    }
    const job = this.job;
    if (!job || job.done) return;
    if (message.type === "stdout") job.events.stdout(Buffer.from(message.data ?? "", "utf8"));
    else if (message.type === "stderr") job.events.stderr(Buffer.from(message.data ?? "", "utf8"));
    else if (message.type === "exit") {
      job.done = true;
      this.job = undefined;
      job.events.exit(message.code ?? 1);
      this.onFree();
    }
  }
}

export interface PowerShellPoolOptions {
  pwsh: PwshCommand;
  /** Where pwsh runs: the repo root, where `dotnet pwsh` finds its tool manifest. */
  cwd: string;
  /**
   * Workers started as soon as commands wait: default one per CPU (at least 2), or NPSMFA_LAB_PWSH_WORKERS.
   * Scripts are CPU-bound, and every extra worker compiles the same code again: with 8 workers a read of
   * 10 hosts took 8 s on 2 CPUs, with 2 it took 2 s.
   */
  workers?: number;
  /**
   * At most this many (default 8): past `workers`, one more starts when commands wait behind a busy
   * worker that does not compute (a health-check poll, a console stdin that never ends), so sleepers do
   * not starve the others (`watchGrowth`).
   */
  maxWorkers?: number;
}

/** Whether workers' CPU time can be read at all (Linux /proc); without it a wait alone makes the pool grow. */
const procReadable = cpuSeconds(process.pid) !== undefined;

/**
 * The CPU share above which a busy worker counts as computing. A sleeper uses next to none (a tick now and
 * then); a worker that computes keeps well above 2% even on a 2-CPU machine running 25 busy processes, so a
 * loaded machine does not pass for sleeping workers.
 */
const computingShare = 0.02;

/** How often the pool looks at its busy workers while commands wait (see `dispatch`). */
const growAfterMs = 2000;

export class PowerShellPool {
  readonly pwsh: PwshCommand;
  readonly cwd: string;
  readonly maxWorkers: number;
  readonly busyWorkers: number;
  private readonly workers = new Set<Worker>();
  private growTimer: NodeJS.Timeout | undefined;
  private readonly queue: Job[] = [];
  /** Workers started since the pool was made (for the bench and tests). */
  started = 0;

  constructor(options: PowerShellPoolOptions) {
    this.pwsh = options.pwsh;
    this.cwd = options.cwd;
    this.maxWorkers = options.maxWorkers ?? 8;
    this.busyWorkers = Math.min(
      this.maxWorkers,
      options.workers ?? (Number(process.env.NPSMFA_LAB_PWSH_WORKERS) || Math.max(2, os.cpus().length)),
    );
  }

  /** The compiled server, per source text and pwsh command (a new pwsh recompiles). */
  assemblyPath(): string {
    const hash = createHash("sha256")
      .update(fs.readFileSync(serverSource))
      .update(JSON.stringify(this.pwsh))
      .digest("hex")
      .slice(0, 16);
    const dir = path.join(os.tmpdir(), "npsmfa-lab");
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, `WarmPowerShell-${hash}.dll`);
  }

  /** Starts a worker ahead of the first command, so the first WinRM command does not pay for it. */
  warm(): void {
    if (this.workers.size === 0) this.spawn();
  }

  run(script: string, env: Record<string, string>, events: PooledRunEvents): PooledRun {
    const job: Job = { script, env, events, pending: [], done: false };
    this.queue.push(job);
    this.dispatch();
    return {
      write: (data, end) => {
        if (job.done) return;
        const lines: string[] = [];
        if (data.length > 0) lines.push(JSON.stringify({ type: "input", data: data.toString("utf8") }));
        if (end) lines.push(JSON.stringify({ type: "end" }));
        if (job.worker) for (const line of lines) job.worker.sendLine(line);
        else job.pending.push(...lines);
      },
      terminate: () => {
        if (job.done) return;
        job.done = true;
        const queued = this.queue.indexOf(job);
        if (queued >= 0) this.queue.splice(queued, 1);
        job.worker?.kill();
        events.exit(1);
      },
    };
  }

  /** Kills every worker; commands still running exit with 1. */
  close(): void {
    clearTimeout(this.growTimer);
    for (const job of this.queue.splice(0)) {
      job.done = true;
      job.events.exit(1);
    }
    for (const worker of [...this.workers]) worker.kill();
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = [...this.workers].find((worker) => worker.ready && !worker.job);
      if (!idle) {
        const starting = [...this.workers].filter((worker) => !worker.ready).length;
        // Start workers for the commands waiting beyond those already starting, up to one per CPU;
        // past that, only for busy workers that do not compute (see `grow`).
        if (this.workers.size < this.busyWorkers && starting < this.queue.length) this.spawn();
        else if (this.workers.size < this.maxWorkers && starting === 0 && !this.growTimer) this.watchGrowth();
        return;
      }
      idle.start(this.queue.shift() as Job);
    }
  }

  /**
   * While commands wait, looks every 2 s at the busy workers: when one has used under 2% of a CPU
   * since the last look (a health-check poll sleeping, a console stdin that never ends), one more worker
   * starts, so sleepers cannot starve the rest. Workers that compute get no company: more workers than
   * CPUs only compile the same code again and slow every command (a 50-host read took 7 to 9 s with the
   * pool grown to 8 on 2 CPUs, 5 s with 2). Without /proc, a wait alone makes the pool grow.
   */
  private watchGrowth(): void {
    this.growTimer = setTimeout(() => {
      this.growTimer = undefined;
      if (this.queue.length === 0 || this.workers.size >= this.maxWorkers) return;
      const now = Date.now();
      const looks = [...this.workers].filter((worker) => worker.job).map((worker) => worker.computing(now));
      if (!procReadable || looks.includes(false)) this.spawn();
      else this.watchGrowth();
    }, growAfterMs);
    this.growTimer.unref();
  }

  private spawn(): void {
    this.started += 1;
    const worker = new Worker(
      this,
      (gone, reason) => this.gone(gone, reason),
      () => this.dispatch(),
    );
    this.workers.add(worker);
    worker.whenReady(() => this.dispatch());
  }

  private gone(worker: Worker, reason: string): void {
    if (!this.workers.delete(worker)) return;
    const job = worker.job;
    if (job && !job.done) {
      job.done = true;
      job.events.stderr(Buffer.from(`The lab's PowerShell worker stopped: ${reason}\r\n`, "utf8"));
      job.events.exit(1);
    }
    // A worker that dies before it was ever ready (no PowerShell, a compile error) fails what waits for it,
    // rather than being restarted forever.
    if (!worker.ready && this.workers.size === 0) {
      for (const waiting of this.queue.splice(0)) {
        waiting.done = true;
        waiting.events.stderr(Buffer.from(`The lab could not start PowerShell: ${reason}\r\n`, "utf8"));
        waiting.events.exit(1);
      }
      return;
    }
    this.dispatch();
  }
}

function encode(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

const pools = new Map<string, { pool: PowerShellPool; users: number; closing?: NodeJS.Timeout }>();

/**
 * How long a pool nobody uses keeps its workers: a process that starts lab after lab (a test file, the
 * next file in the same mocha worker) reuses them instead of paying a new pwsh's start-up and compiles
 * (2-3 s of CPU each) every time. The timer does not keep the process alive, and a worker whose parent is
 * gone sees its stdin end and exits.
 */
const idlePoolLingerMs = 30_000;

/** The pool for a pwsh command, shared by the lab hosts of this process; release when a host stops. */
export function acquirePool(pwsh: PwshCommand, cwd: string): PowerShellPool {
  const key = JSON.stringify([pwsh, cwd]);
  let entry = pools.get(key);
  if (!entry) {
    entry = { pool: new PowerShellPool({ pwsh, cwd }), users: 0 };
    pools.set(key, entry);
  }
  clearTimeout(entry.closing);
  entry.closing = undefined;
  entry.users += 1;
  entry.pool.warm();
  return entry.pool;
}

export function releasePool(pool: PowerShellPool): void {
  for (const [key, entry] of pools) {
    if (entry.pool !== pool) continue;
    entry.users -= 1;
    if (entry.users > 0 || entry.closing) continue;
    entry.closing = setTimeout(() => {
      if (entry.users > 0) return;
      pools.delete(key);
      pool.close();
    }, idlePoolLingerMs);
    entry.closing.unref();
  }
}

/** Runs a script to its end on the pool, with no stdin; on timeout the command is terminated. */
export function runToEnd(
  pool: PowerShellPool,
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const run = pool.run(script, env, {
      stdout: (data) => stdout.push(data),
      stderr: (data) => stderr.push(data),
      exit: (exitCode) => {
        clearTimeout(timer);
        resolve({
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
          exitCode,
        });
      },
    });
    run.write(Buffer.alloc(0), true);
    const timer = setTimeout(() => run.terminate(), timeoutMs);
  });
}
