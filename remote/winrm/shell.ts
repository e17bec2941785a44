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
import {
  WinrmCommandTimeoutError,
  WinrmConnectionError,
  WinrmError,
  WinrmFaultError,
  WinrmNoAnswerError,
  type WinrmTarget,
} from "./errors";
import type { HttpAnswer, SoapTransport } from "./transport";

export interface ShellOptions extends WinrmTarget {
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
/** Cleanup requests (Signal, Delete) on a failure path get at most this long. */
const cleanupTimeoutMs = 10_000;
/** What cleanup may add after the configured operation time: the "small fixed margin". */
export const cleanupMarginMs = 5_000;

/**
 * When one operation (open the shell if needed, run a command, clean up after it) must be over: its work
 * by `deadline` (winrm.operationTimeoutSeconds from its start), its cleanup by `cleanupBy` (a fixed
 * margin later). Every request's HTTP timeout is cut to what is left, so a host that accepts the
 * connection and never answers costs at most the configured time plus the margin.
 */
export interface OperationBudget {
  deadline: number;
  cleanupBy: number;
  limitSeconds: number;
}

export function operationBudget(limitSeconds: number, now = Date.now()): OperationBudget {
  const deadline = now + limitSeconds * 1000;
  return { deadline, cleanupBy: deadline + cleanupMarginMs, limitSeconds };
}

export class WinrmShell {
  private constructor(
    private readonly transport: SoapTransport,
    private readonly options: ShellOptions,
    readonly shellId: string,
  ) {}

  static async open(
    transport: SoapTransport,
    options: ShellOptions,
    budget: OperationBudget,
  ): Promise<WinrmShell> {
    const answer = await postEnvelope(
      transport,
      options,
      "Create shell",
      createShellRequest(common(options)),
      budget,
    );
    return new WinrmShell(transport, options, parseShellId(answer));
  }

  /**
   * Runs one command line with `stdin` fed to it and waits for it to finish, at most until the budget's
   * deadline. A command that outlives it is signalled to terminate and the call fails.
   */
  async run(commandLine: string, stdin: Buffer | undefined, budget: OperationBudget): Promise<CommandOutput> {
    const commandId = parseCommandId(
      await this.call(
        "Command",
        commandRequest(common(this.options), this.shellId, commandLine, stdin !== undefined),
        budget,
      ),
    );
    if (stdin !== undefined) await this.send(commandId, stdin, budget);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    // Each Receive waits up to OperationTimeout for output; the host answers w:TimedOut when it passes,
    // so it is kept a second inside what is left, for that answer to arrive before the deadline.
    for (let remainingMs = budget.deadline - Date.now(); remainingMs >= 1000;) {
      const seconds = Math.max(
        1,
        Math.min(this.options.operationTimeoutSeconds, Math.floor(remainingMs / 1000) - 1),
      );
      const request = receiveRequest(
        { ...common(this.options), operationTimeoutSeconds: seconds },
        this.shellId,
        commandId,
      );
      const answer = await postWithin(
        this.transport,
        this.options,
        "Receive",
        request,
        seconds * 1000 + requestGraceMs,
        budget,
        "work",
      );
      remainingMs = budget.deadline - Date.now();
      if (answer.status !== 200) {
        const fault = parseFault(answer.body);
        if (fault && isOperationTimeout(fault)) continue;
        throw faultError(this.options, "Receive", answer.status, answer.body);
      }
      const received = parseReceiveResponse(answer.body);
      stdout.push(received.stdout);
      stderr.push(received.stderr);
      if (received.done) {
        await this.signal(commandId, signals.terminate, budget);
        return {
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
          exitCode: received.exitCode ?? 0,
        };
      }
    }
    await this.signal(commandId, signals.terminate, budget).catch(() => undefined);
    throw new WinrmCommandTimeoutError(
      this.options,
      `expected the command to finish within winrm.operationTimeoutSeconds (${budget.limitSeconds} s), found it ` +
        "still running; it was signalled to terminate. Raise winrm.operationTimeoutSeconds if the host is just slow",
    );
  }

  /**
   * Deletes the shell, within the budget's cleanup time; failures are reported, since a leaked shell
   * counts against the user's quota.
   */
  async close(budget: OperationBudget): Promise<void> {
    const answer = await postWithin(
      this.transport,
      this.options,
      "Delete shell",
      deleteShellRequest(common(this.options), this.shellId),
      cleanupTimeoutMs,
      budget,
      "cleanup",
    );
    if (answer.status !== 200) throw faultError(this.options, "Delete shell", answer.status, answer.body);
  }

  private async send(commandId: string, stdin: Buffer, budget: OperationBudget): Promise<void> {
    const chunkBytes = stdinChunkBytes(this.options.maxEnvelopeSize);
    let offset = 0;
    do {
      const chunk = stdin.subarray(offset, offset + chunkBytes);
      offset += chunk.length;
      const end = offset >= stdin.length;
      await this.call("Send", sendRequest(common(this.options), this.shellId, commandId, chunk, end), budget);
    } while (offset < stdin.length);
  }

  /** Signal belongs to cleanup: after Done it releases the command, after a timeout it stops it. */
  private async signal(commandId: string, code: string, budget: OperationBudget): Promise<void> {
    const answer = await postWithin(
      this.transport,
      this.options,
      "Signal",
      signalRequest(common(this.options), this.shellId, commandId, code),
      cleanupTimeoutMs,
      budget,
      "cleanup",
    );
    if (answer.status !== 200) throw faultError(this.options, "Signal", answer.status, answer.body);
  }

  private call(what: string, envelope: string, budget: OperationBudget): Promise<string> {
    return postEnvelope(this.transport, this.options, what, envelope, budget);
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
  budget: OperationBudget,
): Promise<string> {
  const normalMs = options.operationTimeoutSeconds * 1000 + requestGraceMs;
  const answer = await postWithin(transport, options, what, envelope, normalMs, budget, "work");
  if (answer.status !== 200) throw faultError(options, what, answer.status, answer.body);
  return answer.body;
}

/**
 * Posts with the request's usual timeout cut to what is left of the operation's work or cleanup time.
 * When that cut is what ran out, the error says the configured operation time passed.
 */
async function postWithin(
  transport: SoapTransport,
  target: WinrmTarget,
  what: string,
  envelope: string,
  normalMs: number,
  budget: OperationBudget,
  phase: "work" | "cleanup",
): Promise<HttpAnswer> {
  const leftMs = (phase === "work" ? budget.deadline : budget.cleanupBy) - Date.now();
  if (leftMs <= 0) throw outOfTime(target, what, budget);
  try {
    return await transport.post(envelope, what, Math.min(normalMs, leftMs));
  } catch (error) {
    if (error instanceof WinrmNoAnswerError && leftMs <= normalMs) throw outOfTime(target, what, budget);
    throw error;
  }
}

function outOfTime(target: WinrmTarget, what: string, budget: OperationBudget): WinrmCommandTimeoutError {
  return new WinrmCommandTimeoutError(
    target,
    `expected the operation to finish within winrm.operationTimeoutSeconds (${budget.limitSeconds} s, cleanup ` +
      `${cleanupMarginMs / 1000} s more), found no answer to ${what} by then; the command's outcome is unknown. ` +
      "The host accepts connections but does not answer: check its WinRM service, or raise " +
      "winrm.operationTimeoutSeconds if it is just slow",
  );
}

export function faultError(target: WinrmTarget, what: string, status: number, body: string): WinrmError {
  const fault = parseFault(body);
  if (!fault) {
    return new WinrmConnectionError(
      target,
      `expected an answer to ${what}, found HTTP ${status} without a SOAP fault; the command's outcome is unknown. ` +
        "Check the host's WinRM service and event log (Microsoft-Windows-WinRM/Operational)",
    );
  }
  const code = fault.wsmanCode
    ? ` (WSManFault ${fault.wsmanCode}${fault.subcode ? `, ${fault.subcode}` : ""})`
    : "";
  return new WinrmFaultError(
    target,
    `${what} failed: ${fault.reason}${code}`,
    fault.wsmanCode,
    fault.subcode,
  );
}
