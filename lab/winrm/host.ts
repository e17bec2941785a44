// One simulated Windows host: an HTTPS WS-Management listener on 127.0.0.1 with a lab-CA certificate and
// Basic/NTLMv2/client-certificate authentication, an HTTP listener with NTLMv2 and every message sealed
// (Windows' default listener, AllowUnencrypted=false), the cmd shell's lifecycle with commands run by
// real PowerShell 7 (Windows shim first; warm workers shared by the hosts, powershellPool.ts), and fault injection for the client's failure paths.
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { actions } from "../../remote/winrm/envelopes";
import {
  decryptEnvelope,
  encryptedContentType,
  encryptEnvelope,
  EncryptedMessageError,
  isEncryptedContentType,
} from "../../remote/winrm/encryptedMessage";
import type { NtlmSealing } from "../../remote/winrm/ntlmSession";
import { findPwsh, type PwshCommand } from "../../scripts/powershell";
import { issueServerCertificate, thumbprintOf, type PemPair } from "../tls";
import { LabAuthenticator } from "./authentication";
import { interpretCommandLine } from "./commandLine";
import { acquirePool, releasePool } from "./powershellPool";
import { CommandRun, type HostEnvironment } from "./powershellRun";
import {
  commandLineOf,
  commandResponse,
  createResponse,
  emptyResponse,
  faultResponse,
  faults,
  parseRequest,
  receiveCommandIdOf,
  receiveOverhead,
  receiveResponse,
  RequestError,
  sendStreamsOf,
  signalOf,
  type FaultSpec,
  type WsmanRequest,
} from "./soap";

const repoRoot = path.resolve(__dirname, "..", "..");
/** Windows' default MaxEnvelopeSizekb is 500. */
export const defaultLabMaxEnvelopeSize = 500 * 1024;
/** Bodies beyond this are not even read: the connection is closed. */
const maxBodyBytes = 16 * 1024 * 1024;

export type WsmanActionName = "Create" | "Command" | "Send" | "Receive" | "Signal" | "Delete";

const actionNames: Record<string, WsmanActionName> = {
  [actions.create]: "Create",
  [actions.command]: "Command",
  [actions.send]: "Send",
  [actions.receive]: "Receive",
  [actions.signal]: "Signal",
  [actions.delete]: "Delete",
};

/** A fault injected into a host; `times` (default 1) counts the requests it hits, `action` narrows them. */
export type LabFault =
  | { kind: "latency"; ms: number }
  | { kind: "dropConnection"; action?: WsmanActionName; times?: number }
  | { kind: "http500"; action?: WsmanActionName; times?: number }
  /** HTTP listener: one bit of the sealed answer flipped on its way, as an attacker in the path would. */
  | { kind: "tamperAnswer"; action?: WsmanActionName; times?: number };

export interface LabWinrmHostOptions {
  /** The host's name (NPSMFA_HOST_NAME, the NTLM computer name, a name in its certificate). */
  name: string;
  /** `user` or `DOMAIN\user`; Basic and NTLM accept it. */
  username: string;
  password: string;
  /** The host's JSON state (NPSMFA_HOST_STATE), read and written by the Windows shim. */
  stateFile: string;
  /** The lab CA: issues the listener's certificate and vouches for client certificates. */
  ca: PemPair;
  /** 0 (default) takes any free port. */
  port?: number;
  /** The HTTP listener's port; 0 (default) takes any free port. */
  httpPort?: number;
  /** Largest request accepted, in bytes; default 512000 like Windows. */
  maxEnvelopeSize?: number;
  /** PowerShell to run; found with scripts/powershell.ts when left out. */
  pwsh?: PwshCommand;
  /** Default lab/windows/WindowsShim.psm1; imported before each script when the file exists. */
  shimModule?: string;
  /**
   * Milliseconds each PowerShell command waits before it starts, standing in for Windows PowerShell's
   * start-up on a real server; default NPSMFA_LAB_PWSH_STARTUP_MS, else 0.
   */
  startupDelayMs?: number;
}

interface Shell {
  commands: Map<string, CommandRun>;
}

export class LabWinrmHost {
  readonly name: string;
  /** https://127.0.0.1:<port>/wsman */
  url = "";
  port = 0;
  /** http://127.0.0.1:<httpPort>/wsman: NTLM only, every message after the handshake sealed. */
  httpUrl = "";
  httpPort = 0;
  /** Messages the HTTP listener refused: unencrypted, or failing to decrypt or verify. */
  readonly refusedMessages = { unencrypted: 0, unverifiable: 0 };
  /** The listener's certificate (PEM) and its SHA-1 thumbprint, for pinning tests. */
  readonly certificatePem: string;
  readonly thumbprint: string;
  /** HTTP requests received, NTLM handshake legs and refused ones included. */
  exchanges = 0;
  /** Requests per WS-Management action (after authentication). */
  readonly exchangesByAction: Record<string, number> = {};
  /** TLS connections accepted: with keep-alive, one per client. */
  connections = 0;

  private readonly server: https.Server;
  private readonly httpServer: http.Server;
  private readonly shells = new Map<string, Shell>();
  private readonly authenticator: LabAuthenticator;
  private readonly httpAuthenticator: LabAuthenticator;
  private environment: HostEnvironment;
  private readonly maxEnvelopeSize: number;
  private faultList: LabFault[] = [];

  private constructor(options: LabWinrmHostOptions, pwsh: PwshCommand) {
    this.name = options.name;
    this.maxEnvelopeSize = options.maxEnvelopeSize ?? defaultLabMaxEnvelopeSize;
    const certificate = issueServerCertificate(options.ca, ["127.0.0.1", "localhost", options.name]);
    this.certificatePem = certificate.certPem;
    this.thumbprint = thumbprintOf(certificate.certPem);
    const netbiosName = options.name.split(".")[0].toUpperCase().slice(0, 15);
    this.authenticator = new LabAuthenticator(
      options,
      netbiosName,
      new X509Certificate(certificate.certPem).raw,
    );
    this.httpAuthenticator = new LabAuthenticator(options, netbiosName, undefined);
    this.environment = {
      hostName: options.name,
      stateFile: options.stateFile,
      shimModule: options.shimModule ?? path.join(repoRoot, "lab", "windows", "WindowsShim.psm1"),
      pwsh,
      cwd: repoRoot,
      pool: acquirePool(pwsh, repoRoot),
      startupDelayMs: options.startupDelayMs ?? (Number(process.env.NPSMFA_LAB_PWSH_STARTUP_MS) || 0),
    };
    this.server = https.createServer(
      {
        key: certificate.keyPem,
        cert: certificate.certPem,
        ca: [options.ca.certPem],
        requestCert: true,
        rejectUnauthorized: false,
        keepAliveTimeout: 120_000,
      },
      (request, response) => this.serve(request, response, this.authenticator),
    );
    this.server.on("secureConnection", () => (this.connections += 1));
    this.httpServer = http.createServer({ keepAliveTimeout: 120_000 }, (request, response) =>
      this.serve(request, response, this.httpAuthenticator),
    );
    this.httpServer.on("connection", () => (this.connections += 1));
  }

  static async start(options: LabWinrmHostOptions): Promise<LabWinrmHost> {
    const pwsh = options.pwsh ?? findPwsh(repoRoot);
    if (!pwsh) {
      throw new Error(
        `lab WinRM host ${options.name}: PowerShell 7 not found; run npm ci (it restores pwsh through dotnet) or put pwsh on PATH`,
      );
    }
    const host = new LabWinrmHost(options, pwsh);
    host.port = await listen(host.server, options.port ?? 0);
    host.url = `https://127.0.0.1:${host.port}/wsman`;
    try {
      host.httpPort = await listen(host.httpServer, options.httpPort ?? 0);
    } catch (error) {
      await host.stop();
      throw error;
    }
    host.httpUrl = `http://127.0.0.1:${host.httpPort}/wsman`;
    return host;
  }

  /** Shells created and not yet deleted. */
  get openShells(): number {
    return this.shells.size;
  }

  injectFault(fault: LabFault): void {
    this.faultList.push(fault.kind === "latency" ? fault : { ...fault, times: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faultList = [];
  }

  resetCounters(): void {
    this.exchanges = 0;
    this.connections = 0;
    this.refusedMessages.unencrypted = 0;
    this.refusedMessages.unverifiable = 0;
    for (const key of Object.keys(this.exchangesByAction)) delete this.exchangesByAction[key];
  }

  async stop(): Promise<void> {
    for (const shell of this.shells.values()) for (const run of shell.commands.values()) run.terminate();
    this.shells.clear();
    if (this.environment.pool) releasePool(this.environment.pool);
    this.environment.pool = undefined;
    await Promise.all(
      [this.server, this.httpServer].map((server) => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  private serve(request: IncomingMessage, response: ServerResponse, authenticator: LabAuthenticator): void {
    this.handle(request, response, authenticator).catch((error: Error) => {
      if (!response.headersSent) {
        response
          .writeHead(500, { "Content-Type": "text/plain" })
          .end(`lab WinRM host error: ${error.message}`);
      }
    });
  }

  private async handle(
    request: IncomingMessage,
    response: ServerResponse,
    authenticator: LabAuthenticator,
  ): Promise<void> {
    this.exchanges += 1;
    const body = await readBody(request);
    if (body === undefined) return;
    const latency = this.faultList.find((fault) => fault.kind === "latency");
    if (latency && latency.kind === "latency") await sleep(latency.ms);

    const outcome = authenticator.authenticate(request);
    if (outcome.kind !== "authenticated") {
      const headers = outcome.kind === "challenge" ? outcome.headers : authenticator.offered;
      response.writeHead(401, { "WWW-Authenticate": headers, "Content-Length": 0 }).end();
      return;
    }
    const plain: { body: Buffer; sealing?: NtlmSealing } | undefined =
      authenticator === this.httpAuthenticator ? this.unseal(request, body, response) : { body };
    if (plain === undefined) return;
    const tampering = { next: false };
    const reply = replier(response, plain.sealing, this.name, tampering);
    if (plain.body.length > this.maxEnvelopeSize) {
      reply.fault({ messageId: "" }, faults.envelopeTooLarge(plain.body.length, this.maxEnvelopeSize));
      return;
    }
    let wsman: WsmanRequest;
    try {
      wsman = parseRequest(plain.body.toString("utf8"));
    } catch (error) {
      const reason = error instanceof RequestError ? error.message : String(error);
      reply.fault({ messageId: "" }, faults.malformed(reason));
      return;
    }
    const action = actionNames[wsman.action];
    if (!action) {
      reply.fault(wsman, faults.unsupported(wsman.action));
      return;
    }
    this.exchangesByAction[action] = (this.exchangesByAction[action] ?? 0) + 1;
    if (this.takeFault("dropConnection", action)) {
      request.socket.destroy();
      return;
    }
    tampering.next = plain.sealing !== undefined && this.takeFault("tamperAnswer", action);
    if (this.takeFault("http500", action)) {
      response.writeHead(500, { "Content-Type": "text/plain", "Content-Length": 0 }).end();
      return;
    }
    try {
      const answer = await this.dispatch(action, wsman, reply);
      if (answer !== undefined) reply.soap(200, answer);
    } catch (error) {
      const reason = error instanceof RequestError ? error.message : String(error);
      reply.fault(wsman, faults.malformed(reason));
    }
  }

  /**
   * The HTTP listener's gate (MS-WSMV 2.2.9.1): after the handshake every request must be sealed with the
   * connection's keys. An empty body is the client setting up its context (pywinrm does) and gets an
   * empty 200. An unencrypted envelope is refused with 401, as Windows does with AllowUnencrypted=false
   * (pywinrm's maintainer, from captures against Windows: hashicorp/packer#6205). One that does not
   * decrypt and verify (altered, replayed, other keys) gets 400 and the connection is closed: its RC4
   * streams are out of step, so nothing more can be read from it (MS-NLMP 3.4.7). Undefined when answered.
   */
  private unseal(
    request: IncomingMessage,
    body: Buffer,
    response: ServerResponse,
  ): { body: Buffer; sealing: NtlmSealing } | undefined {
    const sealing = this.httpAuthenticator.sealingOf(request.socket);
    if (body.length === 0 && sealing) {
      response.writeHead(200, { "Content-Length": 0 }).end();
      return undefined;
    }
    if (!sealing || !isEncryptedContentType(request.headers["content-type"])) {
      this.refusedMessages.unencrypted += 1;
      response.writeHead(401, { "WWW-Authenticate": "Negotiate", "Content-Length": 0 }).end();
      return undefined;
    }
    try {
      return { body: decryptEnvelope(body, sealing), sealing };
    } catch (error) {
      if (!(error instanceof EncryptedMessageError)) throw error;
      this.refusedMessages.unverifiable += 1;
      this.httpAuthenticator.forget(request.socket);
      response.writeHead(400, { "Content-Length": 0, Connection: "close" }).end();
      return undefined;
    }
  }

  /** The answer to a request, or undefined when a fault has already been sent. */
  private async dispatch(
    action: WsmanActionName,
    request: WsmanRequest,
    reply: Reply,
  ): Promise<string | undefined> {
    if (action === "Create") {
      const shellId = randomUUID().toUpperCase();
      this.shells.set(shellId, { commands: new Map() });
      return createResponse(request, this.url, shellId);
    }
    const shell = request.shellId ? this.shells.get(request.shellId) : undefined;
    if (!shell) {
      reply.fault(request, faults.shellNotFound(request.shellId ?? "(none)"));
      return undefined;
    }
    if (action === "Delete") {
      for (const run of shell.commands.values()) run.terminate();
      this.shells.delete(request.shellId ?? "");
      return emptyResponse(request, actions.delete);
    }
    if (action === "Command") {
      const { command, args } = commandLineOf(request);
      const commandId = randomUUID().toUpperCase();
      // Only an explicit TRUE makes stdin a console; the lab takes the option's absence as a pipe.
      const consoleStdin = request.options.WINRS_CONSOLEMODE_STDIN?.toUpperCase() === "TRUE";
      shell.commands.set(
        commandId,
        new CommandRun(interpretCommandLine(command, args), this.environment, { consoleStdin }),
      );
      return commandResponse(request, commandId);
    }
    if (action === "Send") {
      for (const stream of sendStreamsOf(request)) {
        const run = shell.commands.get(stream.commandId);
        if (!run) {
          reply.fault(request, faults.commandNotFound(stream.commandId));
          return undefined;
        }
        run.write(stream.data, stream.end);
      }
      return emptyResponse(request, actions.send);
    }
    if (action === "Signal") {
      const { commandId } = signalOf(request);
      shell.commands.get(commandId)?.terminate();
      shell.commands.delete(commandId);
      return emptyResponse(request, actions.signal);
    }
    const commandId = receiveCommandIdOf(request);
    const run = shell.commands.get(commandId);
    if (!run) {
      reply.fault(request, faults.commandNotFound(commandId));
      return undefined;
    }
    const envelopeLimit = Math.min(request.maxEnvelopeSize ?? this.maxEnvelopeSize, this.maxEnvelopeSize);
    const capacity = Math.max(1024, Math.floor(((envelopeLimit - receiveOverhead) / 4) * 3));
    const gotOutput = await waitForOutput(run, capacity, request.operationTimeoutSeconds * 1000);
    if (!gotOutput) {
      reply.fault(request, faults.timedOut());
      return undefined;
    }
    return receiveResponse(request, commandId, run.take(capacity));
  }

  private takeFault(kind: "dropConnection" | "http500" | "tamperAnswer", action: WsmanActionName): boolean {
    const fault = this.faultList.find(
      (candidate) =>
        candidate.kind === kind && (candidate.action === undefined || candidate.action === action),
    );
    if (!fault || fault.kind === "latency") return false;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faultList = this.faultList.filter((other) => other !== fault);
    return true;
  }
}

interface Reply {
  soap(status: number, envelope: string): void;
  fault(request: Pick<WsmanRequest, "messageId">, spec: FaultSpec): void;
}

/** Writes SOAP answers and faults, sealed when the request came sealed (faults too, as Windows does). */
function replier(
  response: ServerResponse,
  sealing: NtlmSealing | undefined,
  hostName: string,
  tampering: { next: boolean },
): Reply {
  const soap = (status: number, envelope: string) => {
    const plain = Buffer.from(envelope, "utf8");
    const bytes = sealing ? encryptEnvelope(plain, sealing) : plain;
    // The byte just before the closing boundary is the sealed envelope's last.
    if (tampering.next) bytes[bytes.length - "--Encrypted Boundary--\r\n".length - 1] ^= 0x01;
    response
      .writeHead(status, {
        "Content-Type": sealing ? encryptedContentType : "application/soap+xml;charset=UTF-8",
        "Content-Length": bytes.length,
      })
      .end(bytes);
  };
  return {
    soap,
    fault: (request, spec) => soap(500, faultResponse(request, hostName, spec)),
  };
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

/**
 * Holds a Receive until the command finishes, fills a whole answer, or OperationTimeout passes; false when
 * the timeout passed with nothing to send (the caller answers w:TimedOut). Output is not flushed earlier,
 * so a short command's output and exit code come in one answer.
 */
function waitForOutput(run: CommandRun, capacity: number, timeoutMs: number): Promise<boolean> {
  const ready = () => run.finished || run.pendingBytes >= capacity;
  if (ready()) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(run.pendingBytes > 0 || run.finished);
    }, timeoutMs);
    const unsubscribe = run.onChange(() => {
      if (!ready()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(true);
    });
  });
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        request.socket.destroy();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", () => resolve(undefined));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface LabWinrmHostsOptions extends Omit<
  LabWinrmHostOptions,
  "name" | "username" | "password" | "stateFile" | "port" | "httpPort"
> {
  hosts: Pick<
    LabWinrmHostOptions,
    "name" | "username" | "password" | "stateFile" | "port" | "httpPort" | "maxEnvelopeSize"
  >[];
}

/** Several simulated hosts, two listeners each (HTTPS, HTTP); pwsh is looked up once for all of them. */
export class LabWinrmHosts {
  private constructor(readonly hosts: LabWinrmHost[]) {}

  static async start(options: LabWinrmHostsOptions): Promise<LabWinrmHosts> {
    const pwsh = options.pwsh ?? findPwsh(repoRoot);
    const started: LabWinrmHost[] = [];
    try {
      for (const host of options.hosts) started.push(await LabWinrmHost.start({ ...options, ...host, pwsh }));
    } catch (error) {
      await Promise.all(started.map((host) => host.stop()));
      throw error;
    }
    return new LabWinrmHosts(started);
  }

  host(name: string): LabWinrmHost {
    const host = this.hosts.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!host)
      throw new Error(
        `lab WinRM: no host named ${name}; started: ${this.hosts.map((h) => h.name).join(", ")}`,
      );
    return host;
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((host) => host.stop()));
  }
}
