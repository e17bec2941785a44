// A VPN dial through a lab RRAS server: the user's credentials (PAP, or MS-CHAPv2 where the VPN server
// accepts it: RRAS's Set-VpnAuthProtocol -UserAuthProtocolAccepted) go to the NPS servers RRAS holds
// (Get-RemoteAccessRadius, Purpose Authentication), highest score first, each waited for as long as its
// Timeout says (Learn, Add-RemoteAccessRadius: -Score orders the servers, -Timeout is how long RRAS waits
// for an answer before it tries the next). No answer from any: the client gives up with RasClient 20221.
import * as crypto from "node:crypto";
import * as dgram from "node:dgram";
import { logHostEvent } from "../windows/eventLog";
import { readHostState } from "../windows/hostState";
import type { LabDescription } from "../stackFiles";
import {
  authenticatorResponse,
  encodeMsChap2Response,
  generateNtResponse,
  microsoftAttributes,
  microsoftVendorId,
} from "./mschapv2";
import {
  accessRequest,
  answerIsAuthentic,
  decodeRadius,
  encodeRadius,
  radiusCodes,
  RadiusPacket,
  RequestCredentials,
  vendorAttributeOf,
} from "./packet";

export interface RadiusEndpoint {
  port: number;
  secret: string;
}

export interface DialOptions {
  vpnHostname: string;
  vpnStateFile: string;
  /** Where each NPS server RRAS names answers RADIUS. */
  npsServers: Record<string, RadiusEndpoint>;
  user: string;
  password: string;
  /** How the client proves the password; PAP unless the VPN server accepts MS-CHAPv2. */
  protocol?: "pap" | "mschapv2";
}

/** "challenged": NPS asked for a code (Access-Challenge), which Windows' VPN client has no field for. */
export type AttemptOutcome = "accepted" | "rejected" | "challenged" | "no answer" | "unknown server";

export interface DialResult {
  vpnHost: string;
  user: string;
  outcome: "connected" | "rejected" | "failed";
  attempts: { server: string; timeoutSeconds: number; outcome: AttemptOutcome }[];
}

/**
 * One Access-Request to one server, as RRAS sends it; resolves with its verdict, or "no answer" after the
 * timeout or once `signal` aborts (a caller that learnt the outcome on the server's side stops waiting).
 */
export function askServer(
  endpoint: RadiusEndpoint,
  options: Pick<DialOptions, "vpnHostname" | "user" | "password" | "protocol">,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AttemptOutcome> {
  const proof = clientProof(options);
  const request = accessRequest({
    identifier: crypto.randomInt(256),
    userName: options.user,
    credentials: proof.credentials,
    secret: endpoint.secret,
    nasIdentifier: options.vpnHostname,
  });
  const socket = dgram.createSocket("udp4");
  return new Promise<AttemptOutcome>((resolve) => {
    let finished = false;
    const finish = (outcome: AttemptOutcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish("no answer"), timeoutMs);
    signal?.addEventListener("abort", () => finish("no answer"), { once: true });
    socket.on("message", (message) => {
      // RFC 2865 §3: an answer that fails the Response Authenticator check is silently discarded.
      try {
        if (!answerIsAuthentic(message, request, endpoint.secret)) return;
        const answer = decodeRadius(message);
        if (answer.code === radiusCodes.accessAccept) finish(proof.accepts(answer) ? "accepted" : "rejected");
        else if (answer.code === radiusCodes.accessReject) finish("rejected");
        else if (answer.code === radiusCodes.accessChallenge) finish("challenged");
      } catch {
        return;
      }
    });
    socket.on("error", () => finish("no answer"));
    socket.send(encodeRadius(request), endpoint.port, "127.0.0.1");
  });
}

/**
 * The client's proof of the password, and its check of an Access-Accept: under MS-CHAPv2 the server must
 * prove it knew the password too (RFC 2759 §8.7: a client that cannot verify the authenticator response
 * ends the connection).
 */
function clientProof(options: Pick<DialOptions, "user" | "password" | "protocol">): {
  credentials: RequestCredentials;
  accepts: (answer: RadiusPacket) => boolean;
} {
  if (options.protocol !== "mschapv2")
    return { credentials: { protocol: "pap", password: options.password }, accepts: () => true };
  const challenge = crypto.randomBytes(16);
  const peerChallenge = crypto.randomBytes(16);
  const ident = crypto.randomInt(256);
  const ntResponse = generateNtResponse(challenge, peerChallenge, options.user, options.password);
  const expected = authenticatorResponse(
    options.password,
    ntResponse,
    peerChallenge,
    challenge,
    options.user,
  );
  return {
    credentials: {
      protocol: "mschapv2",
      challenge,
      response: encodeMsChap2Response({ ident, peerChallenge, ntResponse }),
    },
    accepts: (answer) => {
      const success = vendorAttributeOf(answer, microsoftVendorId, microsoftAttributes.msChap2Success);
      return success !== undefined && success.subarray(1, 43).toString("ascii") === expected;
    },
  };
}

export async function dial(options: DialOptions): Promise<DialResult> {
  const state = readHostState(options.vpnStateFile);
  const protocol = options.protocol ?? dialProtocol(state.userAuthProtocolAccepted);
  const servers = state.remoteAccessRadius
    .filter((entry) => entry.purpose === "Authentication")
    .sort((a, b) => (b.score ?? 30) - (a.score ?? 30));
  const attempts: DialResult["attempts"] = [];
  for (const server of servers) {
    const endpoint = Object.entries(options.npsServers).find(
      ([name]) => name.toLowerCase() === server.serverName.toLowerCase(),
    )?.[1];
    const outcome = endpoint
      ? await askServer(endpoint, { ...options, protocol }, server.timeout * 1000)
      : "unknown server";
    attempts.push({ server: server.serverName, timeoutSeconds: server.timeout, outcome });
    // An answer of any kind ends the dial: RRAS tries the next server only when one does not answer.
    if (outcome === "accepted" || outcome === "rejected" || outcome === "challenged") {
      if (outcome !== "accepted") {
        logHostEvent(options.vpnStateFile, {
          logName: "Application",
          id: 20227,
          level: 2,
          providerName: "RasClient",
          message: `The user ${options.user} dialed a connection named Always On VPN which has failed. The error code returned on failure is 691.`,
        });
      }
      return {
        vpnHost: options.vpnHostname,
        user: options.user,
        outcome: outcome === "accepted" ? "connected" : "rejected",
        attempts,
      };
    }
  }
  logHostEvent(options.vpnStateFile, {
    logName: "Application",
    id: 20221,
    level: 2,
    providerName: "RasClient",
    message:
      `The user ${options.user} dialed a connection named Always On VPN which has failed: no RADIUS server answered ` +
      `(${attempts.map((attempt) => `${attempt.server} after ${attempt.timeoutSeconds} s`).join(", ") || "none configured"}); ` +
      "the port used for this connection was closed.",
  });
  return { vpnHost: options.vpnHostname, user: options.user, outcome: "failed", attempts };
}

/** The protocol Windows' VPN client and RRAS agree on: MS-CHAPv2 where RRAS accepts it, else PAP. */
export function dialProtocol(accepted: string[] | undefined): "pap" | "mschapv2" {
  return (accepted ?? []).some((name) => name.toLowerCase() === "mschapv2") ? "mschapv2" : "pap";
}

/** A dial in a running lab described by its lab.json: endpoints, secrets and the user's password from it. */
export function dialInLab(lab: LabDescription, vpnHost: string, user: string): Promise<DialResult> {
  const vpn = lab.hosts.find(
    (host) => host.role === "vpn" && host.name.toLowerCase() === vpnHost.toLowerCase(),
  );
  if (!vpn) {
    const names = lab.hosts.filter((host) => host.role === "vpn").map((host) => host.name);
    throw new Error(
      `lab dial: expected a VPN host of the lab (${names.join(", ") || "none"}), found ${JSON.stringify(vpnHost)}`,
    );
  }
  const account = (lab.users ?? []).find((entry) => entry.name.toLowerCase() === user.toLowerCase());
  const npsServers: Record<string, RadiusEndpoint> = {};
  for (const host of lab.hosts) if (host.radius) npsServers[host.name] = host.radius;
  return dial({
    vpnHostname: vpn.name,
    vpnStateFile: vpn.stateFile,
    npsServers,
    user,
    // An unknown user dials with a password of their own, as a person would: NPS rejects it.
    password: account?.password ?? "not-a-lab-password",
  });
}
