// The shell lifecycle of MS-WSMV over any SoapTransport: Create, then per command Command, Send (stdin
// in chunks under MaxEnvelopeSize), Receive until CommandState Done, Signal terminate; Delete at the end.
import {
  commandRequest,
  createShellRequest,
  deleteShellRequest,
  isOperationTimeout,
  parseCommandId,
  parseFault,
  parseReceiveResponse,
  parseShellId,
  receiveRequest,
  sendRequest,
  signalRequest,
  signals,
  stdinChunkBytes,
} from "./envelopes";
import { WinrmCommandTimeoutError, WinrmConnectionError, WinrmError, WinrmFaultError } from "./errors";
import type { SoapTransport } from "./transport";

export interface ShellOptions {
  url: string;
  maxEnvelopeSize: number;
  /** w:OperationTimeout of each request: how long the service may hold a Receive open. */
  operationTimeoutSeconds: number;
}

export interface CommandOutput {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

/** Time the HTTP layer waits beyond the OperationTimeout before it calls the host unresponsive. */
const requestGraceMs = 15_000;
/** Cleanup requests (Signal, Delete) on a failure path get this long, so failures surface promptly. */
const cleanupTimeoutMs = 10_000;

export class WinrmShell {
  private constructor(
    private readonly transport: SoapTransport,
    private readonly options: ShellOptions,
    readonly shellId: string,
  ) {}

  static async open(transport: SoapTransport, options: ShellOptions): Promise<WinrmShell> {
    const answer = await postEnvelope(
      transport,
      options,
      "Create shell",
      createShellRequest(common(options)),
    );
    return new WinrmShell(transport, options, parseShellId(answer));
  }

  /**
   * Runs one command line with `stdin` fed to it and waits for it to finish, at most `timeoutMs`.
   * A command that outlives it is signalled to terminate and the call fails.
   */
  async run(commandLine: string, stdin: Buffer | undefined, timeoutMs: number): Promise<CommandOutput> {
    const deadline = Date.now() + timeoutMs;
    const commandId = parseCommandId(
      await this.call("Command", commandRequest(common(this.options), this.shellId, commandLine)),
    );
    if (stdin !== undefined) await this.send(commandId, stdin);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    // Bounded by the deadline: each Receive waits up to OperationTimeout for output.
    while (Date.now() < deadline) {
      const remainingSeconds = Math.max(
        1,
        Math.min(this.options.operationTimeoutSeconds, (deadline - Date.now()) / 1000),
      );
      const request = receiveRequest(
        { ...common(this.options), operationTimeoutSeconds: remainingSeconds },
        this.shellId,
        commandId,
      );
      const answer = await this.transport.post(request, "Receive", remainingSeconds * 1000 + requestGraceMs);
      if (answer.status !== 200) {
        const fault = parseFault(answer.body);
        if (fault && isOperationTimeout(fault)) continue;
        throw faultError(this.options.url, "Receive", answer.status, answer.body);
      }
      const received = parseReceiveResponse(answer.body);
      stdout.push(received.stdout);
      stderr.push(received.stderr);
      if (received.done) {
        await this.signal(commandId, signals.terminate, requestGraceMs);
        return {
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
          exitCode: received.exitCode ?? 0,
        };
      }
    }
    await this.signal(commandId, signals.terminate, cleanupTimeoutMs).catch(() => undefined);
    throw new WinrmCommandTimeoutError(
      this.options.url,
      `expected the command to finish within ${Math.round(timeoutMs / 1000)} s, found it still running; it was ` +
        "signalled to terminate. Raise winrm.operationTimeoutSeconds if the host is just slow",
    );
  }

  /** Deletes the shell; failures are reported, since a leaked shell counts against the user's quota. */
  async close(cleanup = false): Promise<void> {
    const timeoutMs = cleanup
      ? cleanupTimeoutMs
      : this.options.operationTimeoutSeconds * 1000 + requestGraceMs;
    const answer = await this.transport.post(
      deleteShellRequest(common(this.options), this.shellId),
      "Delete shell",
      timeoutMs,
    );
    if (answer.status !== 200) throw faultError(this.options.url, "Delete shell", answer.status, answer.body);
  }

  private async send(commandId: string, stdin: Buffer): Promise<void> {
    const chunkBytes = stdinChunkBytes(this.options.maxEnvelopeSize);
    let offset = 0;
    do {
      const chunk = stdin.subarray(offset, offset + chunkBytes);
      offset += chunk.length;
      const end = offset >= stdin.length;
      await this.call("Send", sendRequest(common(this.options), this.shellId, commandId, chunk, end));
    } while (offset < stdin.length);
  }

  private async signal(commandId: string, code: string, timeoutMs: number): Promise<void> {
    const answer = await this.transport.post(
      signalRequest(common(this.options), this.shellId, commandId, code),
      "Signal",
      timeoutMs,
    );
    if (answer.status !== 200) throw faultError(this.options.url, "Signal", answer.status, answer.body);
  }

  private call(what: string, envelope: string): Promise<string> {
    return postEnvelope(this.transport, this.options, what, envelope);
  }
}

function common(options: ShellOptions) {
  return {
    to: options.url,
    maxEnvelopeSize: options.maxEnvelopeSize,
    operationTimeoutSeconds: options.operationTimeoutSeconds,
  };
}

// Not named `call`: Pulumi's closure serializer binds a free `call` inside the method `call` to the method
// itself, and the serialized provider then fails with "call is not defined".
async function postEnvelope(
  transport: SoapTransport,
  options: ShellOptions,
  what: string,
  envelope: string,
): Promise<string> {
  const answer = await transport.post(
    envelope,
    what,
    options.operationTimeoutSeconds * 1000 + requestGraceMs,
  );
  if (answer.status !== 200) throw faultError(options.url, what, answer.status, answer.body);
  return answer.body;
}

export function faultError(url: string, what: string, status: number, body: string): WinrmError {
  const fault = parseFault(body);
  if (!fault) {
    return new WinrmConnectionError(
      url,
      `expected an answer to ${what}, found HTTP ${status} without a SOAP fault; the command's outcome is unknown. ` +
        "Check the host's WinRM service and event log (Microsoft-Windows-WinRM/Operational)",
    );
  }
  const code = fault.wsmanCode
    ? ` (WSManFault ${fault.wsmanCode}${fault.subcode ? `, ${fault.subcode}` : ""})`
    : "";
  return new WinrmFaultError(url, `${what} failed: ${fault.reason}${code}`, fault.wsmanCode, fault.subcode);
}
