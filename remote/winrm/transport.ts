// How WS-Management envelopes travel: POSTs to /wsman over one kept-alive connection, either HTTPS
// (TLS protects the messages; Basic, NTLMv2 or client-certificate authentication) or plain HTTP with
// NTLMv2 only, every envelope after the handshake sealed with the NTLM session keys (MS-WSMV 2.2.9.1).
// NTLM authenticates a connection, not a request, so the agent keeps a single socket and we remember
// which sockets have completed the handshake and with which keys. The protocol layer (shell.ts) never
// sees HTTP; this layer never looks inside an envelope.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  authenticate,
  channelBindingHash,
  negotiateMessage,
  NtlmMessageError,
  parseChallengeMessage,
} from "./ntlm";
import { NtlmSealing } from "./ntlmSession";
import {
  decryptEnvelope,
  encryptedContentType,
  encryptEnvelope,
  EncryptedMessageError,
  isEncryptedContentType,
} from "./encryptedMessage";
import { WinrmAuthenticationError, WinrmConnectionError, WinrmNoAnswerError, WinrmTlsError } from "./errors";

export type WinrmAuthKind = "ntlm" | "basic" | "certificate";

export interface TransportOptions {
  /** https://host:5986/wsman, or http://host:5985/wsman with ntlm (every message then sealed). */
  url: string;
  /** The host's name in the stack, for error messages. */
  hostname?: string;
  auth: WinrmAuthKind;
  username?: string;
  password?: string;
  /** PEM CA that issued the listener's certificate; replaces the system CAs for this endpoint. */
  caFile?: string;
  /** SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint: the one certificate accepted, CA or not. */
  thumbprint?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

export interface HttpAnswer {
  status: number;
  body: string;
  /** The NTLM token of a 401's WWW-Authenticate header. */
  challenge?: string;
}

/** What the protocol layer needs from a transport; tests can put a fake behind it. */
export interface SoapTransport {
  /** POSTs one envelope; resolves with HTTP 200 and 500 answers (SOAP faults travel as 500). */
  post(envelope: string, what: string, timeoutMs: number): Promise<HttpAnswer>;
  close(): void;
}

const mutualCertificateScheme = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual";
const maxAnswerBytes = 64 * 1024 * 1024;
/** Attempts of the NTLM handshake when the server closes the connection in the middle of it. */
const ntlmHandshakeAttempts = 2;

/** Splits DOMAIN\user; a UPN (user@domain) goes whole in the user field with an empty domain. */
export function splitAccount(username: string): { domain: string; user: string } {
  const slash = username.indexOf("\\");
  return slash < 0
    ? { domain: "", user: username }
    : { domain: username.slice(0, slash), user: username.slice(slash + 1) };
}

export function describeTlsFailure(url: string, code: string | undefined, message: string): string {
  const untrusted = new Set([
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "CERT_UNTRUSTED",
  ]);
  if (code && untrusted.has(code)) {
    return (
      `expected a TLS certificate issued by a trusted CA, found one that is not (${code}). Set winrm.caFile ` +
      "to the PEM of the CA that issued the listener's certificate, or pin it with winrm.thumbprint"
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `expected a TLS certificate for the host in ${url}, found one for another name (${message}). Use the name the certificate was issued for`;
  }
  if (code === "CERT_HAS_EXPIRED") {
    return "expected a valid TLS certificate, found an expired one. Renew the WinRM HTTPS listener's certificate";
  }
  return `TLS failed (${code ?? "no code"}: ${message})`;
}

/** What one HTTP request/response pair gave back, before any decryption. */
interface RawAnswer {
  status: number;
  bytes: Buffer;
  contentType?: string;
  challenge?: string;
  socket: Socket;
}

/** An NTLM-authenticated connection; `sealing` when messages on it are encrypted (plain HTTP). */
interface NtlmConnection {
  sealing?: NtlmSealing;
}

export class WsmanHttpTransport implements SoapTransport {
  private readonly agent: http.Agent;
  /** Sockets whose NTLM handshake completed: the server treats their later requests as this user's. */
  private authenticated = new WeakMap<Socket, NtlmConnection>();
  private readonly target: URL;
  /** Plain HTTP: every envelope after the handshake is sealed (MS-WSMV 2.2.9.1.1). */
  private readonly sealed: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  /** HTTP request/response pairs sent, NTLM handshake legs included (for tests and diagnostics). */
  exchanges = 0;

  constructor(private readonly options: TransportOptions) {
    this.target = new URL(options.url);
    this.sealed = this.target.protocol === "http:";
    if (this.sealed && options.auth !== "ntlm") {
      throw new WinrmTlsError(
        options,
        options.auth === "basic"
          ? "expected an https:// URL for Basic authentication, found plain http. Basic over http sends the password readable to anyone on the network: use auth ntlm (messages are then encrypted) or the WinRM HTTPS listener (port 5986)"
          : "expected an https:// URL for certificate authentication, found plain http: client certificates need the WinRM HTTPS listener (port 5986)",
      );
    }
    if (!this.sealed && this.target.protocol !== "https:") {
      throw new WinrmTlsError(options, `expected an https:// or http:// URL, found ${this.target.protocol}`);
    }
    if (options.auth !== "certificate" && (!options.username || options.password === undefined)) {
      throw new WinrmAuthenticationError(
        options,
        `expected a user name and password for ${options.auth} authentication, found ${options.username ? "no password" : "no user name"}`,
      );
    }
    const pinned = options.thumbprint !== undefined;
    const keepAlive = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    this.agent = this.sealed
      ? new http.Agent(keepAlive)
      : new https.Agent({
          ...keepAlive,
          // No TLS session resumption: a resumed session has no peer certificate to pin or to bind NTLM to.
          maxCachedSessions: 0,
          // A pinned thumbprint replaces CA validation; it is checked before any byte is sent.
          rejectUnauthorized: !pinned,
          ca: options.caFile && !pinned ? fs.readFileSync(options.caFile) : undefined,
          cert: options.auth === "certificate" ? fs.readFileSync(options.clientCertFile ?? "") : undefined,
          key: options.auth === "certificate" ? fs.readFileSync(options.clientKeyFile ?? "") : undefined,
        });
  }

  post(envelope: string, what: string, timeoutMs: number): Promise<HttpAnswer> {
    // One request at a time: the NTLM handshake's two legs must follow each other on one socket.
    const result = this.queue.then(() => this.postNow(Buffer.from(envelope, "utf8"), what, timeoutMs));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.agent.destroy();
  }

  private async postNow(body: Buffer, what: string, timeoutMs: number): Promise<HttpAnswer> {
    if (this.options.auth !== "ntlm") {
      const answer = await this.exchange(what, timeoutMs, () => ({
        authorization: this.staticAuthorization(),
        body,
      }));
      if (answer.status === 401) throw this.refused();
      return plainAnswer(answer);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.postNtlm(body, what, timeoutMs);
      } catch (error) {
        const retry = error instanceof HandshakeInterrupted && attempt < ntlmHandshakeAttempts;
        if (!retry) throw error instanceof HandshakeInterrupted ? error.cause : error;
      }
    }
  }

  /**
   * On an authenticated connection the envelope goes as is (sealed over http). Otherwise NEGOTIATE goes
   * with an empty body, and AUTHENTICATE with the envelope on the same socket: two exchanges per new
   * connection. Over http the envelope that travels with AUTHENTICATE is already sealed with the new
   * session's keys (the server derives them from that very message), as PowerShell's client does
   * (captures described in microsoft/omi#577); pywinrm instead sends AUTHENTICATE with an empty body.
   */
  private async postNtlm(body: Buffer, what: string, timeoutMs: number): Promise<HttpAnswer> {
    let handshakeSocket: Socket | undefined;
    let reused: NtlmConnection | undefined;
    const first = await this.exchange(what, timeoutMs, (socket) => {
      reused = this.authenticated.get(socket);
      if (reused) return this.outgoing(reused, body);
      handshakeSocket = socket;
      const negotiate = negotiateMessage({ seal: this.sealed });
      return { authorization: `Negotiate ${negotiate.toString("base64")}`, body: Buffer.alloc(0) };
    });
    if (handshakeSocket === undefined) {
      if (first.status !== 401) return this.incoming(first, what, reused);
      // The server forgot this connection's authentication; the envelope was not run: authenticate again.
      this.authenticated = new WeakMap();
      throw new HandshakeInterrupted(this.refused());
    }
    if (first.status !== 401 || !first.challenge) {
      throw new WinrmAuthenticationError(
        this.options,
        `expected an NTLM challenge (HTTP 401 with WWW-Authenticate: Negotiate <token>), found HTTP ${first.status} ` +
          "without one. Check that the listener allows Negotiate authentication (winrm get winrm/config/service/auth)",
      );
    }
    const { domain, user } = splitAccount(this.options.username ?? "");
    const expectedSocket = handshakeSocket;
    const certificate = this.sealed ? undefined : (expectedSocket as TLSSocket).getPeerCertificate(true);
    let authentication;
    try {
      authentication = authenticate({
        user,
        domain,
        password: this.options.password ?? "",
        challenge: parseChallengeMessage(Buffer.from(first.challenge, "base64")),
        channelBindings: certificate?.raw ? channelBindingHash(certificate.raw) : undefined,
        seal: this.sealed,
      });
    } catch (error) {
      const detail = error instanceof NtlmMessageError ? error.message : String(error);
      throw new WinrmAuthenticationError(this.options, `the NTLM challenge is unusable: ${detail}`);
    }
    const connection: NtlmConnection = {
      sealing: authentication.exportedSessionKey
        ? new NtlmSealing(authentication.exportedSessionKey, "client")
        : undefined,
    };
    const token = authentication.message.toString("base64");
    const final = await this.exchange(what, timeoutMs, (socket) => {
      if (socket !== expectedSocket) {
        throw new HandshakeInterrupted(
          new WinrmConnectionError(
            this.options,
            "the server closed the connection during the NTLM handshake",
          ),
        );
      }
      return { ...this.outgoing(connection, body), authorization: `Negotiate ${token}` };
    });
    if (final.status === 401) throw this.refused();
    this.authenticated.set(expectedSocket, connection);
    return this.incoming(final, what, connection);
  }

  private outgoing(connection: NtlmConnection, body: Buffer): { body: Buffer; contentType?: string } {
    if (!connection.sealing) return { body };
    return { body: encryptEnvelope(body, connection.sealing), contentType: encryptedContentType };
  }

  /** Over http: unseals the answer, and refuses a plaintext one (an attacker could have written it). */
  private incoming(answer: RawAnswer, what: string, connection: NtlmConnection | undefined): HttpAnswer {
    const sealing = connection?.sealing;
    if (!this.sealed || answer.status === 401) return plainAnswer(answer);
    if (!isEncryptedContentType(answer.contentType)) {
      // An empty HTTP 500 is the service failing before it could answer; anything with content must be sealed.
      if (answer.bytes.length === 0) return plainAnswer(answer);
      answer.socket.destroy();
      throw new WinrmConnectionError(
        this.options,
        `expected an encrypted answer to ${what} (Content-Type multipart/encrypted), found HTTP ${answer.status} ` +
          `with ${answer.contentType ?? "no Content-Type"}; the command's outcome is unknown. Something between ` +
          "us and the host rewrote the answer",
      );
    }
    try {
      if (!sealing) throw new EncryptedMessageError("no session keys on this connection");
      return { status: answer.status, body: decryptEnvelope(answer.bytes, sealing).toString("utf8") };
    } catch (error) {
      answer.socket.destroy();
      const detail = error instanceof EncryptedMessageError ? error.message : String(error);
      throw new WinrmConnectionError(
        this.options,
        `the encrypted answer to ${what} does not verify (${detail}); the command's outcome is unknown. The ` +
          "connection was closed; something between us and the host altered the answer",
      );
    }
  }
  private staticAuthorization(): string {
    if (this.options.auth === "certificate") return mutualCertificateScheme;
    const credentials = `${this.options.username}:${this.options.password}`;
    return `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
  }

  private refused(): WinrmAuthenticationError {
    const account =
      this.options.auth === "certificate" ? "the client certificate" : `user ${this.options.username}`;
    return new WinrmAuthenticationError(
      this.options,
      `the server refused ${this.options.auth} authentication for ${account} (HTTP 401). Check winrm.username and ` +
        "the password secret, that the listener allows this authentication kind, and that the account may use " +
        "WinRM (Administrators or Remote Management Users)",
    );
  }

  /**
   * One HTTP request/response. `prepare` runs once the TLS connection is up (and its pin checked) and
   * picks the Authorization header and body for that very socket: NTLM state belongs to a socket.
   */
  private exchange(
    what: string,
    timeoutMs: number,
    prepare: (socket: Socket) => { authorization?: string; body: Buffer; contentType?: string },
  ): Promise<RawAnswer> {
    const url = this.options.url;
    const target = this.options;
    const request = (this.sealed ? http.request : https.request)(this.target, {
      method: "POST",
      agent: this.agent,
      headers: { "Content-Type": "application/soap+xml;charset=UTF-8", "User-Agent": "npsmfa-winrm" },
    });
    return new Promise<RawAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      request.setTimeout(timeoutMs, () =>
        request.destroy(
          new WinrmNoAnswerError(
            target,
            `no answer to ${what} within ${Math.round(timeoutMs / 1000)} s; the command's outcome is unknown. ` +
              "The host or network is slow or down",
            what,
          ),
        ),
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (
          error instanceof WinrmConnectionError ||
          error instanceof WinrmTlsError ||
          error instanceof HandshakeInterrupted
        ) {
          fail(error);
        } else if (error.code && /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS/.test(error.code)) {
          fail(new WinrmTlsError(target, describeTlsFailure(url, error.code, error.message)));
        } else {
          fail(
            new WinrmConnectionError(
              target,
              `the connection failed during ${what} (${error.code ?? error.message}); the command's outcome is ` +
                "unknown. Check that the host is up and its listener reachable",
            ),
          );
        }
      });
      let usedSocket: Socket | undefined;
      request.on("socket", (socket) => {
        usedSocket = socket;
        const send = () => {
          if (settled) return;
          let prepared: { authorization?: string; body: Buffer; contentType?: string };
          try {
            if (!this.sealed) this.verifyPin(socket as TLSSocket);
            prepared = prepare(socket);
          } catch (error) {
            request.destroy(error as Error);
            return;
          }
          if (prepared.authorization) request.setHeader("Authorization", prepared.authorization);
          if (prepared.contentType) request.setHeader("Content-Type", prepared.contentType);
          request.setHeader("Content-Length", prepared.body.length);
          this.exchanges += 1;
          request.end(prepared.body);
        };
        // A reused socket is already up; a new one is verified by Node (or by the pin) on secureConnect.
        if (this.sealed) {
          if (socket.connecting) socket.once("connect", send);
          else send();
        } else if ((socket as TLSSocket).getPeerCertificate?.(true)?.raw) send();
        else socket.once("secureConnect", send);
      });
      request.on("response", (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxAnswerBytes) chunks.push(chunk);
          else
            request.destroy(
              new WinrmConnectionError(target, `the answer to ${what} exceeds ${maxAnswerBytes} bytes`),
            );
        });
        response.on("end", () => {
          if (settled) return;
          const status = response.statusCode ?? 0;
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString("utf8");
          if (status === 200 || status === 500 || status === 401) {
            settled = true;
            resolve({
              status,
              bytes,
              contentType: response.headers["content-type"],
              challenge: ntlmToken(response.headers["www-authenticate"]),
              // response.socket is gone once the socket went back to the agent's pool.
              socket: usedSocket ?? response.socket,
            });
            return;
          }
          fail(
            new WinrmConnectionError(
              target,
              `expected HTTP 200 or a SOAP fault for ${what}, found HTTP ${status}` +
                `${text ? `: ${text.slice(0, 200)}` : ""}. Check the URL path (/wsman) and the host's WinRM service`,
            ),
          );
        });
      });
    });
  }

  private verifyPin(socket: TLSSocket): void {
    const pin = this.options.thumbprint?.replace(/[\s:]/g, "").toUpperCase();
    if (!pin) return;
    const der = socket.getPeerCertificate(true)?.raw;
    if (!der) throw new WinrmTlsError(this.options, "expected a server certificate, found none");
    const found = crypto
      .createHash(pin.length === 64 ? "sha256" : "sha1")
      .update(der)
      .digest("hex")
      .toUpperCase();
    if (found !== pin) {
      throw new WinrmTlsError(
        this.options,
        `expected the server certificate with thumbprint ${pin}, found ${found}. The listener's certificate changed: ` +
          "check it on the host and update winrm.thumbprint",
      );
    }
  }
}

function plainAnswer(answer: RawAnswer): HttpAnswer {
  return { status: answer.status, body: answer.bytes.toString("utf8"), challenge: answer.challenge };
}

/** The NTLM token of a WWW-Authenticate header ("Negotiate <b64>" or "NTLM <b64>"), if any. */
export function ntlmToken(header: string | string[] | undefined): string | undefined {
  const values = Array.isArray(header) ? header : header ? header.split(/,\s*(?=[A-Za-z]+\s)/) : [];
  for (const value of values) {
    const match = /^(?:Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value.trim());
    if (match) return match[1];
  }
  return undefined;
}

/** The server closed the connection between the handshake's legs: safe to start the handshake again. */
class HandshakeInterrupted extends Error {
  constructor(readonly cause: Error) {
    super(cause.message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = cause.message;
  }
}
