// A lab RADIUS proxy: NPS without the extension, forwarding each Access-Request (its PAP password re-hidden, or
// its MS-CHAPv2 challenge and response as they came, under the proxy's own secret) to the servers of its remote
// RADIUS server group in order, relaying the answer and its attributes back, each waited for as long as "Number of seconds without response before request
// is considered dropped" (PROPERTY_RADIUSSERVER_TIMEOUT) says (Learn: windows-server/networking/technologies/nps/
// nps-crp-rrsg; entra howto-mfa-nps-extension-rdg). It forwards with what IAS read at its start or at its last
// ISdoServiceControl::ResetService (services.IAS.loaded; Learn: windows/win32/api/sdoias/
// nn-sdoias-isdoservicecontrol), not with the configuration of the moment: a timeout applied without a reset
// is not yet in force. No server answers: the request is dropped and the RADIUS client hears nothing. The
// blackout (a server skipped after dropped requests) is not emulated.
import * as crypto from "node:crypto";
import * as dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { readHostState } from "../windows/hostState";
import { microsoftAttributes, microsoftVendorId } from "./mschapv2";
import {
  accessAnswer,
  accessRequest,
  answerIsAuthentic,
  attributeOf,
  decodeRadius,
  decryptUserPassword,
  encodeRadius,
  radiusAttributes,
  radiusCodes,
  RadiusPacket,
  RequestCredentials,
  requestIsAuthentic,
  vendorAttributeOf,
} from "./packet";
import { listenUdp } from "./udp";
import type { RadiusEndpoint } from "./vpnDial";

/** The proof of the password as the client sent it, to forward under another secret. */
function forwardedCredentials(request: RadiusPacket, secret: string): RequestCredentials | undefined {
  const hidden = attributeOf(request, radiusAttributes.userPassword);
  if (hidden)
    return { protocol: "pap", password: decryptUserPassword(hidden, secret, request.authenticator) };
  const challenge = vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChapChallenge);
  const response = vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChap2Response);
  return challenge && response ? { protocol: "mschapv2", challenge, response } : undefined;
}

/** One request to one server: its authentic answer, or undefined after the timeout or once `signal` aborts. */
function exchange(
  endpoint: RadiusEndpoint,
  request: RadiusPacket,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<RadiusPacket | undefined> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve) => {
    let finished = false;
    const finish = (answer: RadiusPacket | undefined) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    signal.addEventListener("abort", () => finish(undefined), { once: true });
    socket.on("message", (message) => {
      try {
        if (answerIsAuthentic(message, request, endpoint.secret)) finish(decodeRadius(message));
      } catch {
        return; // RFC 2865 §3: an answer that does not check is silently discarded.
      }
    });
    socket.on("error", () => finish(undefined));
    socket.send(encodeRadius(request), endpoint.port, "127.0.0.1");
  });
}

export interface NpsProxyOptions {
  hostname: string;
  stateFile: string;
  /** 0 takes a free port. */
  port: number;
  /** The RADIUS client's shared secret. */
  secret: string;
  /** Where each remote RADIUS server (by its address in the group) answers, with the proxy's secret for it. */
  upstream: Record<string, RadiusEndpoint>;
}

export interface ForwardedRequest {
  user: string;
  outcome: "accepted" | "rejected" | "challenged" | "dropped";
  /** Each server asked, with the timeout IAS forwarded with. */
  attempts: { address: string; timeoutSeconds: number }[];
}

function outcomeOf(code: number): ForwardedRequest["outcome"] {
  if (code === radiusCodes.accessAccept) return "accepted";
  return code === radiusCodes.accessChallenge ? "challenged" : "rejected";
}

export class NpsProxyServer {
  readonly handled: ForwardedRequest[] = [];
  private readonly listeners: ((request: ForwardedRequest) => void)[] = [];
  private readonly stopping = new AbortController();

  private socket!: dgram.Socket;

  private constructor(private readonly options: NpsProxyOptions) {}

  get port(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  get endpoint(): RadiusEndpoint {
    return { port: this.port, secret: this.options.secret };
  }

  static async start(options: NpsProxyOptions): Promise<NpsProxyServer> {
    const proxy = new NpsProxyServer(options);
    proxy.socket = await listenUdp(options.port, `lab RADIUS proxy ${options.hostname}`, (message, remote) =>
      proxy.forward(message, remote),
    );
    return proxy;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** The next request this proxy finishes with. */
  nextHandled(): Promise<ForwardedRequest> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  private record(request: ForwardedRequest): void {
    this.handled.push(request);
    for (const listener of this.listeners.splice(0)) listener(request);
  }

  private async forward(message: Buffer, remote: dgram.RemoteInfo): Promise<void> {
    const { secret, stateFile, upstream } = this.options;
    let request: RadiusPacket;
    try {
      request = decodeRadius(message);
    } catch {
      return; // RFC 2865 §3: a malformed packet is silently discarded.
    }
    if (request.code !== radiusCodes.accessRequest || !requestIsAuthentic(request, secret)) return;
    const ias = readHostState(stateFile).services.IAS;
    if (!ias || ias.status !== "Running" || !ias.loaded) return;

    const user = attributeOf(request, radiusAttributes.userName)?.toString("utf8") ?? "";
    const nas = attributeOf(request, radiusAttributes.nasIdentifier)?.toString("utf8") ?? "";
    const credentials = forwardedCredentials(request, secret);
    if (!credentials) return;
    // The lab's connection request policy forwards everything to the first group.
    const servers = ias.loaded.remoteRadiusServerGroups?.[0]?.servers ?? [];
    const attempts: ForwardedRequest["attempts"] = [];
    for (const server of servers) {
      const endpoint = Object.entries(upstream).find(
        ([address]) => address.toLowerCase() === server.address.toLowerCase(),
      )?.[1];
      if (!endpoint) continue;
      attempts.push({ address: server.address, timeoutSeconds: server.timeout });
      const forwarded = accessRequest({
        identifier: crypto.randomInt(256),
        userName: user,
        credentials,
        secret: endpoint.secret,
        nasIdentifier: nas,
      });
      const answer = await exchange(endpoint, forwarded, server.timeout * 1000, this.stopping.signal);
      if (answer && answer.code !== radiusCodes.accessRequest) {
        const relayed = answer.attributes.filter(
          (entry) => entry.type !== radiusAttributes.messageAuthenticator,
        );
        const code = answer.code as Parameters<typeof accessAnswer>[1];
        this.socket.send(accessAnswer(request, code, secret, relayed), remote.port, remote.address);
        this.record({ user, outcome: outcomeOf(code), attempts });
        return;
      }
    }
    this.record({ user, outcome: "dropped", attempts });
  }
}
