// How a lab host decides who is asking: Basic per request, NTLMv2 per connection (the handshake's
// challenge, its result and, over plain HTTP, its session keys live with the socket), or a client
// certificate from the lab CA.
import * as crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  canSeal,
  challengeMessage,
  channelBindingHash,
  NtlmMessageError,
  parseAuthenticateMessage,
  parseNegotiateMessage,
  verifyNtlmv2,
} from "../../remote/winrm/ntlm";
import { NtlmSealing } from "../../remote/winrm/ntlmSession";
import { splitAccount } from "../../remote/winrm/transport";

export interface LabAccount {
  /** `user` or `DOMAIN\user`. */
  username: string;
  password: string;
}

export type AuthenticationOutcome =
  | { kind: "authenticated" }
  /** Answer 401 with these WWW-Authenticate values. */
  | { kind: "challenge"; headers: string[] }
  | { kind: "refused"; reason: string };

export const offeredSchemes = ["Negotiate", 'Basic realm="WSMAN"'];
/**
 * The HTTP listener with AllowUnencrypted=false (Windows' default) takes only what can encrypt: Basic
 * cannot, and a certificate needs TLS (Learn, "Installation and configuration for Windows Remote
 * Management", AllowUnencrypted and the listener settings).
 */
export const offeredSchemesOverHttp = ["Negotiate"];
const mutualScheme = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual";

interface ConnectionState {
  serverChallenge?: Buffer;
  authenticated: boolean;
  /** The connection's NTLM session keys, when sealing was negotiated. */
  sealing?: NtlmSealing;
}

export class LabAuthenticator {
  private readonly connections = new WeakMap<Socket, ConnectionState>();
  private readonly account: { domain: string; user: string; password: string };
  /** The WWW-Authenticate values this listener offers. */
  readonly offered: string[];

  /** `serverCertificateDer` for the HTTPS listener (channel bindings, certificates); none over plain HTTP. */
  constructor(
    account: LabAccount,
    private readonly computerName: string,
    private readonly serverCertificateDer: Buffer | undefined,
  ) {
    this.account = { ...splitAccount(account.username), password: account.password };
    this.offered = serverCertificateDer ? offeredSchemes : offeredSchemesOverHttp;
  }

  authenticate(request: IncomingMessage): AuthenticationOutcome {
    const socket = request.socket;
    const state = this.connections.get(socket) ?? { authenticated: false };
    this.connections.set(socket, state);
    const header = request.headers.authorization ?? "";
    const [scheme, token = ""] = header.split(/\s+/, 2);
    const lower = scheme.toLowerCase();
    if (header === "") {
      return state.authenticated ? { kind: "authenticated" } : { kind: "challenge", headers: this.offered };
    }
    if (lower === "negotiate" || lower === "ntlm") return this.ntlm(state, scheme, token);
    if (!this.serverCertificateDer) return { kind: "challenge", headers: this.offered };
    if (lower === "basic") return this.basic(token);
    if (header === mutualScheme) {
      const tls = socket as TLSSocket;
      return tls.authorized && tls.getPeerCertificate()?.subject
        ? { kind: "authenticated" }
        : { kind: "refused", reason: "no client certificate issued by the lab CA" };
    }
    return { kind: "challenge", headers: this.offered };
  }

  /** The session keys of an NTLM-authenticated connection that negotiated sealing. */
  sealingOf(socket: Socket): NtlmSealing | undefined {
    return this.connections.get(socket)?.sealing;
  }

  /** Drops a connection's authentication (its key streams are out of step after a bad message). */
  forget(socket: Socket): void {
    this.connections.delete(socket);
  }

  private accountMatches(domain: string, user: string): boolean {
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const domainOk =
      domain === "" || domain === "." || this.account.domain === "" || same(domain, this.account.domain);
    return same(user, this.account.user) && domainOk;
  }

  private basic(token: string): AuthenticationOutcome {
    const decoded = Buffer.from(token, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return { kind: "refused", reason: "malformed Basic credentials" };
    const { domain, user } = splitAccount(decoded.slice(0, colon));
    const password = Buffer.from(decoded.slice(colon + 1), "utf8");
    const expected = Buffer.from(this.account.password, "utf8");
    const passwordOk = password.length === expected.length && crypto.timingSafeEqual(password, expected);
    return this.accountMatches(domain, user) && passwordOk
      ? { kind: "authenticated" }
      : { kind: "refused", reason: "Basic: wrong user name or password" };
  }

  private ntlm(state: ConnectionState, scheme: string, token: string): AuthenticationOutcome {
    const message = Buffer.from(token, "base64");
    try {
      const type = message.length >= 12 ? message.readUInt32LE(8) : 0;
      if (type === 1) {
        const negotiate = parseNegotiateMessage(message);
        state.authenticated = false;
        state.sealing = undefined;
        state.serverChallenge = crypto.randomBytes(8);
        const challenge = challengeMessage({
          serverChallenge: state.serverChallenge,
          negotiateFlags: negotiate.flags,
          domain: this.account.domain.toUpperCase() || "LAB",
          computer: this.computerName,
        });
        return { kind: "challenge", headers: [`${scheme} ${challenge.toString("base64")}`] };
      }
      const serverChallenge = state.serverChallenge;
      state.serverChallenge = undefined;
      if (type !== 3 || !serverChallenge)
        return { kind: "refused", reason: "NTLM AUTHENTICATE without a challenge" };
      const authenticate = parseAuthenticateMessage(message);
      if (!this.accountMatches(authenticate.domain, authenticate.user)) {
        return { kind: "refused", reason: "NTLM: unknown user" };
      }
      const verification = verifyNtlmv2(authenticate, serverChallenge, this.account.password);
      if (!verification.valid) return { kind: "refused", reason: "NTLM: wrong password or not NTLMv2" };
      // Channel bindings are checked when sent, as Windows does with CbtHardeningLevel Relaxed.
      if (
        this.serverCertificateDer &&
        verification.channelBindings &&
        !verification.channelBindings.equals(Buffer.alloc(16)) &&
        !verification.channelBindings.equals(channelBindingHash(this.serverCertificateDer))
      ) {
        return { kind: "refused", reason: "NTLM: channel bindings do not match this TLS connection" };
      }
      state.authenticated = true;
      // MS-NLMP 3.2.5.1.2: the server's side of the session keys; used only where messages are sealed.
      state.sealing =
        canSeal(authenticate.flags) && verification.exportedSessionKey
          ? new NtlmSealing(verification.exportedSessionKey, "server")
          : undefined;
      return { kind: "authenticated" };
    } catch (error) {
      if (error instanceof NtlmMessageError) return { kind: "refused", reason: error.message };
      throw error;
    }
  }
}
