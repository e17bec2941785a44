// A lab RADIUS proxy: NPS without the extension, forwarding each Access-Request to the servers of its remote
// RADIUS server group in order, each waited for as long as "Number of seconds without response before request
// is considered dropped" (PROPERTY_RADIUSSERVER_TIMEOUT) says (Learn: windows-server/networking/technologies/nps/
// nps-crp-rrsg; entra howto-mfa-nps-extension-rdg). It forwards with what IAS read at its start or at its last
// ISdoServiceControl::ResetService (services.IAS.loaded; Learn: windows/win32/api/sdoias/
// nn-sdoias-isdoservicecontrol), not with the configuration of the moment: a timeout applied without a reset
// is not yet in force. No server answers: the request is dropped and the RADIUS client hears nothing. The
// blackout (a server skipped after dropped requests) is not emulated.
import * as dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { readHostState } from "../windows/hostState";
import {
  accessAnswer,
  attributeOf,
  decodeRadius,
  decryptUserPassword,
  radiusAttributes,
  radiusCodes,
  RadiusPacket,
  requestIsAuthentic,
} from "./packet";
import { listenUdp } from "./udp";
import { askServer, RadiusEndpoint } from "./vpnDial";

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
  outcome: "accepted" | "rejected" | "dropped";
  /** Each server asked, with the timeout IAS forwarded with. */
  attempts: { address: string; timeoutSeconds: number }[];
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
    const hidden = attributeOf(request, radiusAttributes.userPassword);
    const password = hidden ? decryptUserPassword(hidden, secret, request.authenticator) : "";
    // The lab's connection request policy forwards everything to the first group.
    const servers = ias.loaded.remoteRadiusServerGroups?.[0]?.servers ?? [];
    const attempts: ForwardedRequest["attempts"] = [];
    for (const server of servers) {
      const endpoint = Object.entries(upstream).find(
        ([address]) => address.toLowerCase() === server.address.toLowerCase(),
      )?.[1];
      if (!endpoint) continue;
      attempts.push({ address: server.address, timeoutSeconds: server.timeout });
      const outcome = await askServer(
        endpoint,
        { vpnHostname: nas, user, password },
        server.timeout * 1000,
        this.stopping.signal,
      );
      if (outcome === "accepted" || outcome === "rejected") {
        const code = outcome === "accepted" ? radiusCodes.accessAccept : radiusCodes.accessReject;
        this.socket.send(accessAnswer(request, code, secret), remote.port, remote.address);
        this.record({ user, outcome, attempts });
        return;
      }
    }
    this.record({ user, outcome: "dropped", attempts });
  }
}
