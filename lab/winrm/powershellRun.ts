// One command of a lab shell: real PowerShell 7 with the Windows shim imported first, or a canned
// answer for cmd built-ins. Output is queued until a Receive takes it. A script (-EncodedCommand,
// -Command text) runs in a warm pooled worker (powershellPool.ts), which writes the error stream as
// CLIXML as Windows PowerShell does under WinRM; `-Command -` (stdin read line by line, as the console
// does) starts a pwsh process of its own, which does the same.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import type { PwshCommand } from "../../scripts/powershell";
import type { LabCommand } from "./commandLine";
import type { PooledRun, PowerShellPool } from "./powershellPool";
import { hostEnvironment } from "../windows/hostState";

export interface HostEnvironment {
  hostName: string;
  stateFile: string;
  /** lab/windows/WindowsShim.psm1; imported when the file exists. */
  shimModule: string;
  pwsh: PwshCommand;
  /** Working directory of pwsh: the repo root, where `dotnet pwsh` finds its tool manifest. */
  cwd: string;
  /** Warm workers for scripts; without one, every command starts pwsh. */
  pool?: PowerShellPool;
  /**
   * Waited before each PowerShell command starts: stands in for Windows PowerShell 5.1's start-up, which
   * a real server pays for every WinRM command (the pool's workers are already running). Default 0.
   */
  startupDelayMs?: number;
}

// Fixed text, never client input: the client's script follows it in the same script, so `param`-less
// scripts, `exit N` and `$input` (stdin) behave as they would on Windows.
const prelude =
  "if ($env:NPSMFA_SHIM_MODULE) { Import-Module -Name $env:NPSMFA_SHIM_MODULE -ErrorAction Stop }";

export class CommandRun {
  private stdout: Buffer[] = [];
  private stderr: Buffer[] = [];
  private child: ChildProcess | undefined;
  private pooled: PooledRun | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  /** Input that arrived while the start-up delay ran. */
  private early: { data: Buffer; end: boolean }[] = [];
  private listeners: (() => void)[] = [];
  /** WINRS_CONSOLEMODE_STDIN=TRUE: stdin is a console, whose end of input the process never sees. */
  private readonly consoleStdin: boolean;
  exitCode: number | undefined;

  constructor(command: LabCommand, environment: HostEnvironment, options: { consoleStdin?: boolean } = {}) {
    this.consoleStdin = options.consoleStdin ?? false;
    if (command.kind === "output") {
      this.stdout.push(Buffer.from(command.stdout, "utf8"));
      this.stderr.push(Buffer.from(command.stderr, "utf8"));
      this.exitCode = command.exitCode;
      return;
    }
    const shim = fs.existsSync(environment.shimModule) ? environment.shimModule : "";
    const delay = environment.startupDelayMs ?? 0;
    const start = () => {
      this.startTimer = undefined;
      if (this.exitCode !== undefined) return;
      if (command.source === "text" && environment.pool) this.startPooled(command.script, environment, shim);
      else this.startProcess(command, environment, shim);
      for (const { data, end } of this.early.splice(0)) this.write(data, end);
    };
    if (delay > 0) this.startTimer = setTimeout(start, delay);
    else start();
  }

  private startPooled(script: string, environment: HostEnvironment, shim: string): void {
    this.pooled = (environment.pool as PowerShellPool).run(
      `${prelude}\n${script}`,
      { ...hostEnvironment(environment.hostName, environment.stateFile), NPSMFA_SHIM_MODULE: shim },
      {
        stdout: (data) => this.push(this.stdout, data),
        stderr: (data) => this.push(this.stderr, data),
        exit: (code) => this.finish(code),
      },
    );
  }

  private startProcess(
    command: LabCommand & { kind: "powershell" },
    environment: HostEnvironment,
    shim: string,
  ): void {
    const args =
      command.source === "stdin"
        ? ["-NoProfile", "-NonInteractive", "-Command", "-"]
        : [
            "-NoProfile",
            "-NonInteractive",
            "-EncodedCommand",
            Buffer.from(`${prelude}\n${command.script}`, "utf16le").toString("base64"),
          ];
    const child = spawn(environment.pwsh.command, [...environment.pwsh.args, ...args], {
      cwd: environment.cwd,
      env: {
        ...process.env,
        ...hostEnvironment(environment.hostName, environment.stateFile),
        NPSMFA_SHIM_MODULE: shim,
        // Windows PowerShell 5.1 writes no ANSI colour codes; pwsh would, even into a pipe.
        NO_COLOR: "1",
      },
      stdio: ["pipe", "pipe", "pipe"],
      // A process group of its own: `dotnet pwsh` runs pwsh two processes down, and all must stop together.
      detached: true,
    });
    this.child = child;
    if (command.source === "stdin") child.stdin.write(`${prelude}\n`);
    child.stdin.on("error", () => undefined);
    child.stdout.on("data", (chunk: Buffer) => this.push(this.stdout, chunk));
    child.stderr.on("data", (chunk: Buffer) => this.push(this.stderr, windowsClixmlMarker(chunk)));
    child.on("error", (error) => {
      this.push(this.stderr, Buffer.from(`The lab could not start PowerShell: ${error.message}\r\n`));
      this.finish(1);
    });
    child.on("close", (code, signal) => this.finish(code ?? (signal ? 1 : 0)));
  }

  /**
   * Feeds the command's stdin; `end` closes it, unless stdin is a console. MS-WSMV 3.1.4.11 (Command):
   * WINRS_CONSOLEMODE_STDIN makes the client's standard input a console (TRUE) or a pipe (FALSE). A
   * console's end of input is no end of file to the process, so `$input | Out-String` (our bootstrap)
   * waits for more and the command runs into its timeout. This is why clients that pipe input set it to
   * FALSE (Ansible's winrm connection plugin, the Go and Java WinRM clients).
   */
  write(data: Buffer, end: boolean): void {
    if (this.exitCode !== undefined) return;
    const closes = end && !this.consoleStdin;
    if (this.startTimer) {
      this.early.push({ data, end });
      return;
    }
    if (this.pooled) {
      this.pooled.write(data, closes);
      return;
    }
    if (!this.child) return;
    if (data.length > 0) this.child.stdin?.write(data);
    if (closes) this.child.stdin?.end();
  }

  /** Takes up to `maxBytes` of queued output, stdout first; `exitCode` is set once all is taken. */
  take(maxBytes: number): { stdout: Buffer; stderr: Buffer; exitCode?: number } {
    const stdout = takeBytes(this.stdout, maxBytes);
    const stderr = takeBytes(this.stderr, maxBytes - stdout.length);
    const drained = this.stdout.length === 0 && this.stderr.length === 0;
    return { stdout, stderr, exitCode: drained ? this.exitCode : undefined };
  }

  get pendingBytes(): number {
    return [...this.stdout, ...this.stderr].reduce((total, chunk) => total + chunk.length, 0);
  }

  get finished(): boolean {
    return this.exitCode !== undefined;
  }

  /** Calls back on new output or exit; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  terminate(): void {
    if (this.startTimer) {
      clearTimeout(this.startTimer);
      this.startTimer = undefined;
      this.finish(1);
      return;
    }
    if (this.pooled) {
      this.pooled.terminate();
      return;
    }
    const pid = this.child?.pid;
    if (pid === undefined || this.exitCode !== undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      this.child?.kill("SIGKILL");
    }
  }

  private push(queue: Buffer[], chunk: Buffer): void {
    queue.push(chunk);
    this.notify();
  }

  private finish(code: number): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function takeBytes(queue: Buffer[], maxBytes: number): Buffer {
  const taken: Buffer[] = [];
  let room = maxBytes;
  while (queue.length > 0 && room > 0) {
    const head = queue[0];
    if (head.length <= room) {
      taken.push(head);
      queue.shift();
      room -= head.length;
    } else {
      taken.push(head.subarray(0, room));
      queue[0] = head.subarray(room);
      room = 0;
    }
  }
  return Buffer.concat(taken);
}

const unixMarker = Buffer.from("#< CLIXML\n");
/** pwsh on Linux ends the "#< CLIXML" line with LF; Windows with CRLF, which pywinrm looks for. */
function windowsClixmlMarker(chunk: Buffer): Buffer {
  const at = chunk.indexOf(unixMarker);
  if (at < 0) return chunk;
  const rest = windowsClixmlMarker(chunk.subarray(at + unixMarker.length));
  return Buffer.concat([chunk.subarray(0, at), Buffer.from("#< CLIXML\r\n"), rest]);
}
