// A VPN dial through a lab RRAS server: the user's PAP credentials go to the NPS servers RRAS holds
// (Get-RemoteAccessRadius, Purpose Authentication), highest score first, each waited for as long as its
// Timeout says (Learn, Add-RemoteAccessRadius: -Score orders the servers, -Timeout is how long RRAS waits
// for an answer before it tries the next). No answer from any: the client gives up with RasClient 20221.
import * as crypto from "node:crypto";
import * as dgram from "node:dgram";
import { logHostEvent } from "../windows/eventLog";
import { readHostState } from "../windows/hostState";
import type { LabDescription } from "../stackFiles";
import { accessRequest, answerIsAuthentic, decodeRadius, encodeRadius, radiusCodes } from "./packet";

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
}

export type AttemptOutcome = "accepted" | "rejected" | "no answer" | "unknown server";

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
  options: Pick<DialOptions, "vpnHostname" | "user" | "password">,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AttemptOutcome> {
  const request = accessRequest({
    identifier: crypto.randomInt(256),
    userName: options.user,
    password: options.password,
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
        const code = decodeRadius(message).code;
        if (code === radiusCodes.accessAccept) finish("accepted");
        else if (code === radiusCodes.accessReject) finish("rejected");
      } catch {
        return;
      }
    });
    socket.on("error", () => finish("no answer"));
    socket.send(encodeRadius(request), endpoint.port, "127.0.0.1");
  });
}

export async function dial(options: DialOptions): Promise<DialResult> {
  const state = readHostState(options.vpnStateFile);
  const servers = state.remoteAccessRadius
    .filter((entry) => entry.purpose === "Authentication")
    .sort((a, b) => (b.score ?? 30) - (a.score ?? 30));
  const attempts: DialResult["attempts"] = [];
  for (const server of servers) {
    const endpoint = Object.entries(options.npsServers).find(
      ([name]) => name.toLowerCase() === server.serverName.toLowerCase(),
    )?.[1];
    const outcome = endpoint ? await askServer(endpoint, options, server.timeout * 1000) : "unknown server";
    attempts.push({ server: server.serverName, timeoutSeconds: server.timeout, outcome });
    if (outcome === "accepted" || outcome === "rejected") {
      if (outcome === "rejected") {
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
