// What the providers use: run a PowerShell script on one Windows host and get its output and exit
// code. One connection per client; one shell, reused for every command until endShell() or close(); on
// any failure the shell is deleted and the next command opens a new one.
import type { WinrmEndpointInputs } from "../../providers/resourceTypes";
import { clixmlToText } from "./clixml";
import { defaultMaxEnvelopeSize } from "./envelopes";
import { describeTarget, type WinrmTarget } from "./errors";
import { operationBudget, WinrmShell, type CommandOutput, type OperationBudget } from "./shell";
import { WsmanHttpTransport, type SoapTransport } from "./transport";

export interface WinrmClientOptions {
  /** The host's name, for messages; the connection goes to endpoint.url. */
  hostname: string;
  endpoint: WinrmEndpointInputs;
  /** For ntlm and basic; read from the stack's secrets by the caller, never stored by us. */
  password?: string;
  /** w:OperationTimeout of each Receive (how long the service holds it open); default 20 s like pywinrm. */
  receiveTimeoutSeconds?: number;
  /** Default 153600 bytes, as winrs and pywinrm ask; Windows accepts up to MaxEnvelopeSizekb. */
  maxEnvelopeSize?: number;
  /** A transport of one's own (tests); by default HTTPS per the endpoint. */
  transport?: SoapTransport;
}

export interface PowerShellResult {
  stdout: string;
  /** Readable text: CLIXML error records are turned back into the messages a console shows. */
  stderr: string;
  exitCode: number;
}

/**
 * Runs on the host by -EncodedCommand (no quoting through cmd.exe, and far below its 8191-char limit):
 * collects the whole script from stdin and runs it as one script block, so multi-line statements and
 * `exit N` behave as in a .ps1 file (plain `-Command -` runs stdin line by line). `$input | Out-String`
 * is how Ansible feeds its wrapper to Windows PowerShell 5.1 over WinRM; the shell's code page is
 * UTF-8 (WINRS_CODEPAGE=65001), so non-ASCII text survives.
 */
export const stdinBootstrap = ". ([ScriptBlock]::Create(($input | Out-String)))";

export function encodedCommand(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}

export const powershellCommandLine = `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encodedCommand(stdinBootstrap)}`;

export class WinrmClient {
  private readonly transport: SoapTransport;
  private readonly target: WinrmTarget;
  private shell: Promise<WinrmShell> | undefined;
  /** The last command's budget: close() deletes the shell within its cleanup time when still open. */
  private lastBudget: OperationBudget | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: WinrmClientOptions) {
    this.target = { url: options.endpoint.url, hostname: options.hostname };
    this.transport =
      options.transport ??
      new WsmanHttpTransport({
        url: options.endpoint.url,
        hostname: options.hostname,
        auth: options.endpoint.auth,
        username: options.endpoint.username,
        password: options.password,
        caFile: options.endpoint.caFile,
        thumbprint: options.endpoint.thumbprint,
        clientCertFile: options.endpoint.clientCertFile,
        clientKeyFile: options.endpoint.clientKeyFile,
      });
  }

  /** HTTP exchanges so far, NTLM handshake legs included (when the default transport is used). */
  get exchanges(): number {
    return (this.transport as Partial<WsmanHttpTransport>).exchanges ?? 0;
  }

  /** Runs a PowerShell script (any length: it travels over stdin) and returns its output and exit code. */
  async runPowerShell(script: string): Promise<PowerShellResult> {
    const output = await this.runCommand(powershellCommandLine, Buffer.from(script, "utf8"));
    return {
      stdout: decodeUtf8(output.stdout),
      stderr: clixmlToText(decodeUtf8(output.stderr)),
      exitCode: output.exitCode,
    };
  }

  /** Runs a cmd.exe command line (at most 8191 characters) with optional stdin; raw bytes back. */
  runCommand(commandLine: string, stdin?: Buffer): Promise<CommandOutput> {
    if (commandLine.length > 8191) {
      return Promise.reject(
        new RangeError(
          `WinRM ${describeTarget(this.target)}: expected a command line of at most 8191 characters (cmd.exe's limit), found ` +
            `${commandLine.length}. Send long scripts over stdin (runPowerShell does)`,
        ),
      );
    }
    const result = this.queue.then(() => this.runNow(commandLine, stdin));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Deletes the shell after the commands queued so far; the authenticated connection stays for the next
   * command, which opens a new shell. A host keeps no shell of ours between bursts of work, even when
   * this process is killed before close().
   */
  endShell(): Promise<void> {
    const ended = this.queue.then(() => this.deleteShell());
    this.queue = ended.catch(() => undefined);
    return ended;
  }

  /** Deletes the shell and closes the connection. The client cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    try {
      await this.deleteShell();
    } finally {
      this.transport.close();
    }
  }

  private async deleteShell(): Promise<void> {
    const shell = await this.shell?.catch(() => undefined);
    this.shell = undefined;
    // Called long after the last command, deleting is an operation of its own with a fresh budget.
    const last = this.lastBudget;
    await shell?.close(
      last && Date.now() < last.cleanupBy
        ? last
        : operationBudget(this.options.endpoint.operationTimeoutSeconds),
    );
  }

  private async runNow(commandLine: string, stdin: Buffer | undefined): Promise<CommandOutput> {
    if (this.closed) throw new Error(`WinRM ${describeTarget(this.target)}: the client is closed`);
    // winrm.operationTimeoutSeconds bounds the whole operation: opening the shell, the command, and
    // (a fixed margin later) its cleanup.
    const budget = operationBudget(this.options.endpoint.operationTimeoutSeconds);
    this.lastBudget = budget;
    this.shell ??= WinrmShell.open(
      this.transport,
      {
        ...this.target,
        maxEnvelopeSize: this.options.maxEnvelopeSize ?? defaultMaxEnvelopeSize,
        operationTimeoutSeconds: Math.min(
          this.options.receiveTimeoutSeconds ?? 20,
          this.options.endpoint.operationTimeoutSeconds,
        ),
      },
      budget,
    );
    let shell: WinrmShell;
    try {
      shell = await this.shell;
    } catch (error) {
      this.shell = undefined;
      throw error;
    }
    try {
      return await shell.run(commandLine, stdin, budget);
    } catch (error) {
      // The shell's state is unknown after a failure: delete it (best effort, within the cleanup margin)
      // and start fresh next time.
      this.shell = undefined;
      await shell.close(budget).catch(() => undefined);
      throw error;
    }
  }
}

function decodeUtf8(bytes: Buffer): string {
  return bytes.toString("utf8").replace(/^\uFEFF/, "");
}
