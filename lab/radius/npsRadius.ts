// A lab NPS server's RADIUS side: UDP on 127.0.0.1, answering Access-Requests as NPS with the Entra MFA
// extension does. Primary authentication against the lab's users (NPS asks AD DS), then the extension:
// a token from Entra with the certificate IAS loaded at start, then the user's approval on a phone.
// Learn, howto-mfa-nps-extension ("How the NPS extension works") gives the order; the errors page says
// that without a token the extension logs ESTS_TOKEN_ERROR (AuthZ event 3) and NPS discards the request
// (Security event 6274), so the RADIUS client gets no answer at all.
import * as crypto from "node:crypto";
import * as dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { authenticationTypes } from "../../doctor/facts";
import { logHostEvent } from "../windows/eventLog";
import { listenUdp } from "./udp";
import { HostState, readHostState } from "../windows/hostState";
import {
  authenticatorResponse,
  decodeMsChap2Response,
  microsoftAttributes,
  microsoftVendorId,
  ntResponseMatches,
} from "./mschapv2";
import {
  acquireExtensionToken,
  loadedExtensionVersion,
  LoginRoute,
  TokenOutcome,
  totpPromptApplies,
} from "./npsExtension";
import {
  accessAnswer,
  attributeOf,
  decodeRadius,
  decryptUserPassword,
  radiusAttributes,
  radiusCodes,
  RadiusAttribute,
  RadiusPacket,
  requestIsAuthentic,
  requestProtocol,
  vendorAttribute,
  vendorAttributeOf,
} from "./packet";

export interface LabUser {
  name: string;
  password: string;
}

export interface NpsRadiusOptions {
  hostname: string;
  stateFile: string;
  /** 0 takes a free port. */
  port: number;
  /** The RADIUS client's shared secret (every lab VPN host sends from 127.0.0.1, so one per NPS). */
  secret: string;
  users: () => LabUser[];
  /** The Graph types of a user's registered MFA methods (the extension asks Entra for them). */
  methodsOf: (user: string) => string[];
  /** How long a user takes to approve the MFA prompt. */
  approvalMs: () => number;
  login: LoginRoute;
}

export type RequestOutcome = "accepted" | "rejected" | "discarded" | "challenged";

const authzProvider = "Microsoft-AzureMfa-AuthZ";
const securityProvider = "Microsoft-Windows-Security-Auditing";

export type HandledRequest = {
  user: string;
  outcome: RequestOutcome;
  reason?: string;
  /** Accepted requests: whether the extension had the user do MFA (false: IAS loaded no extension). */
  mfa?: boolean;
};

/**
 * A Security 6272/6273/6274 message in the layout of Windows' template (Learn, "Event ID 6273 — NPS
 * Authentication Status": User > Account Name, NAS > NAS Identifier, Authentication Details > Reason Code and
 * Reason), with the fields the lab knows; reason codes from Learn's "NPS Reason Codes 0 Through 37".
 */
function npsAuditMessage(
  headline: string,
  user: string,
  nasIdentifier: string,
  reason: { code: number; text: string },
): string {
  return [
    headline,
    "",
    "User:",
    `\tAccount Name:\t\t\t${user}`,
    "",
    "NAS:",
    `\tNAS Identifier:\t\t\t${nasIdentifier}`,
    "",
    "Authentication Details:",
    `\tReason Code:\t\t\t${reason.code}`,
    `\tReason:\t\t\t\t${reason.text}`,
  ].join("\n");
}

const reasons = {
  granted: {
    code: 0,
    text: "The connection request was successfully authenticated and authorized by Network Policy Server.",
  },
  // Learn, "NPS Reason Codes": 66 when the request's authentication method is not enabled on the matching
  // network policy, 48 when no network policy matches.
  methodNotAllowed: {
    code: 66,
    text: "The user attempted to use an authentication method that is not enabled on the matching network policy.",
  },
  noPolicy: {
    code: 48,
    text: "The connection request did not match any configured network policy.",
  },
  credentialsMismatch: {
    code: 16,
    text: "Authentication failed due to a user credentials mismatch. Either the user name provided does not map to an existing user account or the password was incorrect.",
  },
  // The exact code Windows logs when the MFA extension discards a request is not documented; 21 is the
  // documented code for an extension DLL turning a request down.
  extension: {
    code: 21,
    text: "An NPS extension dynamic link library (DLL) that is installed on the NPS server rejected the connection request.",
  },
};

const typeOfProtocol = { pap: authenticationTypes.pap, mschapv2: authenticationTypes.mschapv2 } as const;

/**
 * The network policy NPS applies: the enabled one first in processing order (the lab's policies have no
 * conditions, so the first enabled one matches every request). Undefined `networkPolicies` is a host
 * written before the lab kept them: no policy is enforced there.
 */
function policyVerdict(
  state: HostState,
  protocol: "pap" | "mschapv2" | undefined,
): "allowed" | keyof typeof reasons {
  if (state.networkPolicies === undefined) return "allowed";
  const policy = [...state.networkPolicies]
    .filter((entry) => entry.enabled)
    .sort((a, b) => a.merit - b.merit)[0];
  if (!policy) return "noPolicy";
  return protocol && policy.authenticationTypes.includes(typeOfProtocol[protocol])
    ? "allowed"
    : "methodNotAllowed";
}

/** Primary authentication as NPS does it against AD DS: PAP's password, or MS-CHAPv2's NT-Response. */
function passwordProven(request: RadiusPacket, secret: string, user: LabUser): boolean {
  const hidden = attributeOf(request, radiusAttributes.userPassword);
  if (hidden) {
    try {
      return decryptUserPassword(hidden, secret, request.authenticator) === user.password;
    } catch {
      return false;
    }
  }
  const challenge = vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChapChallenge);
  const responseValue = vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChap2Response);
  const response = responseValue && decodeMsChap2Response(responseValue);
  if (!challenge || challenge.length !== 16 || !response) return false;
  return ntResponseMatches(response, challenge, user.name, user.password);
}

/**
 * RFC 2548 §2.3.3 MS-CHAP2-Success in the Access-Accept: the Ident and the authenticator response (RFC 2759
 * §8.7) that proves to the client that the server knew the password. MPPE keys are left out: the lab's
 * dial carries no traffic to encrypt.
 */
function msChap2Success(request: RadiusPacket, user: LabUser): RadiusAttribute[] {
  const challenge = vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChapChallenge);
  const responseValue = vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChap2Response);
  const response = responseValue && decodeMsChap2Response(responseValue);
  if (!challenge || !response) return [];
  const proof = authenticatorResponse(
    user.password,
    response.ntResponse,
    response.peerChallenge,
    challenge,
    user.name,
  );
  return [
    vendorAttribute(
      microsoftVendorId,
      microsoftAttributes.msChap2Success,
      Buffer.concat([Buffer.from([response.ident]), Buffer.from(proof, "ascii")]),
    ),
  ];
}

export class NpsRadiusServer {
  /** Outcome of each request handled, for tests. */
  readonly handled: HandledRequest[] = [];
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly handledListeners: ((request: HandledRequest) => void)[] = [];

  private socket!: dgram.Socket;

  private constructor(private readonly options: NpsRadiusOptions) {}

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  get secret(): string {
    return this.options.secret;
  }

  static async start(options: NpsRadiusOptions): Promise<NpsRadiusServer> {
    const server = new NpsRadiusServer(options);
    server.socket = await listenUdp(options.port, `lab NPS ${options.hostname}`, (message, remote) =>
      server.handle(message, remote),
    );
    return server;
  }

  async stop(): Promise<void> {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** The next request this server finishes with (its events are logged by then). */
  nextHandled(): Promise<HandledRequest> {
    return new Promise((resolve) => this.handledListeners.push(resolve));
  }

  private record(user: string, outcome: RequestOutcome, reason?: string, mfa?: boolean): void {
    const request = { user, outcome, ...(reason ? { reason } : {}), ...(mfa === undefined ? {} : { mfa }) };
    this.handled.push(request);
    for (const listener of this.handledListeners.splice(0)) listener(request);
  }

  private async handle(message: Buffer, remote: dgram.RemoteInfo): Promise<void> {
    const { stateFile, secret } = this.options;
    let request: RadiusPacket;
    try {
      request = decodeRadius(message);
    } catch {
      return; // RFC 2865 §3: a malformed packet is silently discarded.
    }
    if (request.code !== radiusCodes.accessRequest) return;
    // NPS discards an Access-Request whose Message-Authenticator is missing or wrong (RFC 3579 §3.2;
    // required by NPS since the BlastRADIUS update, Learn KB5040268): no answer, nothing accepted.
    if (!requestIsAuthentic(request, secret)) return;
    const state = readHostState(stateFile);
    const ias = state.services.IAS;
    // A stopped IAS does not listen: the datagram finds no one.
    if (!ias || ias.status !== "Running") return;

    const user = attributeOf(request, radiusAttributes.userName)?.toString("utf8") ?? "";
    const nas = attributeOf(request, radiusAttributes.nasIdentifier)?.toString("utf8") ?? "";
    const protocol = requestProtocol(request);
    const known = this.options.users().find((entry) => entry.name.toLowerCase() === user.toLowerCase());
    const answer = (
      code:
        | typeof radiusCodes.accessAccept
        | typeof radiusCodes.accessReject
        | typeof radiusCodes.accessChallenge,
      attributes: RadiusAttribute[] = [],
    ) => this.socket.send(accessAnswer(request, code, secret, attributes), remote.port, remote.address);
    const deny = (reason: keyof typeof reasons, why: string) => {
      logHostEvent(stateFile, {
        logName: "Security",
        id: 6273,
        level: 0,
        providerName: securityProvider,
        message: npsAuditMessage(
          "Network Policy Server denied access to a user.",
          user,
          nas,
          reasons[reason],
        ),
      });
      this.record(user, "rejected", why);
      answer(radiusCodes.accessReject);
    };

    const verdict = policyVerdict(state, protocol);
    if (verdict !== "allowed") return deny(verdict, reasons[verdict].text);
    if (!known || !passwordProven(request, secret, known))
      return deny("credentialsMismatch", "unknown user or wrong password");

    const granted = (mfa: boolean, why?: string) => {
      logHostEvent(stateFile, {
        logName: "Security",
        id: 6272,
        level: 0,
        providerName: securityProvider,
        message: npsAuditMessage(
          "Network Policy Server granted access to a user.",
          user,
          nas,
          reasons.granted,
        ),
      });
      this.record(user, "accepted", why, mfa);
      answer(radiusCodes.accessAccept, protocol === "mschapv2" ? msChap2Success(request, known) : []);
    };
    // NPS passes a request to the extensions it loaded only after primary authentication succeeds (Learn,
    // howto-mfa-nps-extension, "How the NPS extension works"): with none loaded, that is the whole answer.
    const version = ias.loaded ? loadedExtensionVersion(state, ias.loaded) : undefined;
    if (ias.loaded && version === null)
      return granted(false, "no NPS extension loaded: granted after primary authentication, no MFA");

    const token: TokenOutcome = ias.loaded
      ? await acquireExtensionToken(ias.loaded, this.options.login, version)
      : { ok: false, reason: "IAS started without the extension's settings" };
    if (!token.ok) {
      const correlation = crypto.randomUUID();
      logHostEvent(stateFile, {
        logName: "AuthZAdminCh",
        id: 3,
        level: 2,
        providerName: authzProvider,
        message:
          `NPS Extension for Azure MFA: CID: ${correlation} : Exception in Authentication Ext for User ${user} :: ` +
          `ErrorCode:: CID :${correlation} ESTS_TOKEN_ERROR Msg:: Verify the client certificate is properly enrolled ` +
          `in Azure against your tenant and the server can access URL in Registry STS_URL. ${token.reason}`,
      });
      logHostEvent(stateFile, {
        logName: "Security",
        id: 6274,
        level: 0,
        providerName: securityProvider,
        message: npsAuditMessage(
          "Network Policy Server discarded the request for a user.",
          user,
          nas,
          reasons.extension,
        ),
      });
      this.record(user, "discarded", token.aadsts ?? token.reason);
      return;
    }

    // Number matching (Learn, how-to-mfa-number-match "NPS extension"): from 1.2.2216.1 a user with a TOTP
    // method is asked for a code unless OVERRIDE_NUMBER_MATCHING_WITH_OTP was FALSE when IAS started. Only PAP
    // can carry the code back (an Access-Challenge); under MS-CHAPv2 or EAP the sign-in fails, with "Challenge
    // requested in Authentication Ext" in AuthZOptCh (Learn, howto-mfa-nps-extension-errors).
    if (ias.loaded && totpPromptApplies(version, ias.loaded, this.options.methodsOf(user))) {
      logHostEvent(stateFile, {
        logName: "AuthZOptCh",
        id: 1,
        level: 4,
        providerName: authzProvider,
        message: `NPS Extension for Azure MFA: CID: ${crypto.randomUUID()} : Challenge requested in Authentication Ext for User ${user} with state ${protocol === "pap" ? "AccessChallenge" : "AccessReject"}.`,
      });
      if (protocol === "pap") {
        this.record(user, "challenged", "TOTP requested");
        answer(radiusCodes.accessChallenge, [
          { type: radiusAttributes.replyMessage, value: Buffer.from("Enter your verification code", "utf8") },
          { type: radiusAttributes.state, value: crypto.randomBytes(16) },
        ]);
        return;
      }
      return deny("extension", "TOTP requested over a protocol that cannot carry it");
    }

    // The user approves on the phone; then the extension hands NPS its verdict.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, this.options.approvalMs());
      this.pending.add(timer);
    });
    granted(true);
  }
}
