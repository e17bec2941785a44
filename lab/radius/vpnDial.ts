// A VPN dial through a lab RRAS server: the user's credentials (PAP, or MS-CHAPv2 where the VPN server
// accepts it: RRAS's Set-VpnAuthProtocol -UserAuthProtocolAccepted) go to the NPS servers RRAS holds
// (Get-RemoteAccessRadius, Purpose Authentication), highest score first, each waited for as long as its
// Timeout says (Learn, Add-RemoteAccessRadius: -Score orders the servers, -Timeout is how long RRAS waits
// for an answer before it tries the next). A dial that fails leaves RasClient event 20227
// (ROUTERLOG_RASCONNECTION_FAILED, "... which has failed. The error code returned on failure is ...") in the
// Application log of the Windows client that dialled, not of the VPN server (TechNet cc773769, "RAS Connection
// Establishment"; "RAS Connection Establishment Issues"): the lab writes it to the dialling side's record,
// the dial's result and the client log in the lab folder (clientEventLog).
import * as crypto from "node:crypto";
import * as dgram from "node:dgram";
import * as path from "node:path";
import { appendEvent, loggedHostEvents } from "../windows/eventLog";
import { HostEvent, readHostState } from "../windows/hostState";
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
  /** The dialling client's Application log (JSON lines): where its RasClient events go. */
  clientLog: string;
}

/** "challenged": NPS asked for a code (Access-Challenge), which Windows' VPN client has no field for. */
export type AttemptOutcome = "accepted" | "rejected" | "challenged" | "no answer" | "unknown server";

export interface DialResult {
  vpnHost: string;
  user: string;
  outcome: "connected" | "rejected" | "failed";
  attempts: { server: string; timeoutSeconds: number; outcome: AttemptOutcome }[];
  /** What the dialling client logged (RasClient 20227 when it failed). */
  clientEvents: HostEvent[];
}

/** The name the lab gives the dialling Windows client in event lines. */
export const clientName = "client";

/** The dialling client's Application log in a lab folder. */
export function clientEventLog(labDir: string): string {
  return path.join(labDir, "client.events.jsonl");
}

/** RasClient 20227 in the form Windows' template gives it (cc773769), with the RAS error code. */
function connectionFailed(user: string, errorCode: number): Omit<HostEvent, "timeCreated"> {
  return {
    logName: "Application",
    id: 20227,
    level: 2,
    providerName: "RasClient",
    message:
      `The user ${user} dialed a connection named Always On VPN which has failed. ` +
      `The error code returned on failure is ${errorCode}.`,
  };
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
      return {
        vpnHost: options.vpnHostname,
        user: options.user,
        outcome: outcome === "accepted" ? "connected" : "rejected",
        attempts,
        // 691: ERROR_AUTHENTICATION_FAILURE (raserror.h), access denied for the user name or password.
        clientEvents:
          outcome === "accepted" ? [] : [appendEvent(options.clientLog, connectionFailed(options.user, 691))],
      };
    }
  }
  // No NPS answered in time: the client shows "the port used for this connection was closed"; its event
  // carries error code 0, as the seed article's client logged it.
  const failed = appendEvent(options.clientLog, connectionFailed(options.user, 0));
  return {
    vpnHost: options.vpnHostname,
    user: options.user,
    outcome: "failed",
    attempts,
    clientEvents: [failed],
  };
}

/** The protocol Windows' VPN client and RRAS agree on: MS-CHAPv2 where RRAS accepts it, else PAP. */
export function dialProtocol(accepted: string[] | undefined): "pap" | "mschapv2" {
  return (accepted ?? []).some((name) => name.toLowerCase() === "mschapv2") ? "mschapv2" : "pap";
}

/** Events of a dial, one host each: the lab hosts' logs since it started, then the client's. */
export type DialEvents = { host: string; event: HostEvent }[];

/**
 * A dial in a running lab described by its lab.json (endpoints, secrets, the user's password), from the
 * client whose log is in `labDir`. `user` is a lab user's name or UPN; one the lab does not know is refused
 * with the known ones. `events` are those the dial left on the lab's hosts and on the client, oldest first.
 */
export async function dialInLab(
  lab: LabDescription,
  vpnHost: string,
  user: string,
  labDir: string,
): Promise<DialResult & { events: DialEvents }> {
  const vpn = lab.hosts.find(
    (host) => host.role === "vpn" && host.name.toLowerCase() === vpnHost.toLowerCase(),
  );
  if (!vpn) {
    const names = lab.hosts.filter((host) => host.role === "vpn").map((host) => host.name);
    throw new Error(
      `expected a VPN host of the lab (${names.join(", ") || "none"}), found ${JSON.stringify(vpnHost)}`,
    );
  }
  const wanted = user.toLowerCase();
  const account = lab.users.find(
    (entry) => entry.name.toLowerCase() === wanted || entry.upn.toLowerCase() === wanted,
  );
  if (!account) {
    const known = lab.users.map((entry) => `${entry.name} (${entry.upn})`).join(", ");
    throw new Error(`${JSON.stringify(user)} is not a user of the lab; its users are ${known}`);
  }
  const npsServers: Record<string, RadiusEndpoint> = {};
  for (const host of lab.hosts) if (host.radius) npsServers[host.name] = host.radius;
  const since = new Date().toISOString();
  const result = await dial({
    vpnHostname: vpn.name,
    vpnStateFile: vpn.stateFile,
    npsServers,
    user: account.name,
    password: account.password,
    clientLog: clientEventLog(labDir),
  });
  const hostEvents = lab.hosts
    .flatMap((host) => loggedHostEvents(host.stateFile).map((event) => ({ host: host.name, event })))
    .filter(({ event }) => event.timeCreated >= since)
    .sort((a, b) => a.event.timeCreated.localeCompare(b.event.timeCreated));
  return {
    ...result,
    events: [...hostEvents, ...result.clientEvents.map((event) => ({ host: clientName, event }))],
  };
}
