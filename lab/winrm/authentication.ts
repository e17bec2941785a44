// How a lab host decides who is asking: Basic per request, NTLMv2 per connection (the handshake's
// challenge and its result live with the TLS socket), or a client certificate from the lab CA.
import * as crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  challengeMessage,
  channelBindingHash,
  NtlmMessageError,
  parseAuthenticateMessage,
  parseNegotiateMessage,
  verifyNtlmv2,
} from "../../remote/winrm/ntlm";
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
const mutualScheme = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual";

interface ConnectionState {
  serverChallenge?: Buffer;
  authenticated: boolean;
}

export class LabAuthenticator {
  private readonly connections = new WeakMap<TLSSocket, ConnectionState>();
  private readonly account: { domain: string; user: string; password: string };

  constructor(
    account: LabAccount,
    private readonly computerName: string,
    private readonly serverCertificateDer: Buffer,
  ) {
    this.account = { ...splitAccount(account.username), password: account.password };
  }

  authenticate(request: IncomingMessage): AuthenticationOutcome {
    const socket = request.socket as TLSSocket;
    const state = this.connections.get(socket) ?? { authenticated: false };
    this.connections.set(socket, state);
    const header = request.headers.authorization ?? "";
    const [scheme, token = ""] = header.split(/\s+/, 2);
    const lower = scheme.toLowerCase();
    if (header === "") {
      return state.authenticated ? { kind: "authenticated" } : { kind: "challenge", headers: offeredSchemes };
    }
    if (lower === "basic") return this.basic(token);
    if (lower === "negotiate" || lower === "ntlm") return this.ntlm(state, scheme, token);
    if (header === mutualScheme) {
      return socket.authorized && socket.getPeerCertificate()?.subject
        ? { kind: "authenticated" }
        : { kind: "refused", reason: "no client certificate issued by the lab CA" };
    }
    return { kind: "challenge", headers: offeredSchemes };
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
        verification.channelBindings &&
        !verification.channelBindings.equals(Buffer.alloc(16)) &&
        !verification.channelBindings.equals(channelBindingHash(this.serverCertificateDer))
      ) {
        return { kind: "refused", reason: "NTLM: channel bindings do not match this TLS connection" };
      }
      state.authenticated = true;
      return { kind: "authenticated" };
    } catch (error) {
      if (error instanceof NtlmMessageError) return { kind: "refused", reason: error.message };
      throw error;
    }
  }
}
