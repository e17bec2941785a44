// One RADIUS proxy: an NPS server without the MFA extension that forwards RADIUS to the extension NPS servers
// through remote RADIUS server groups. Microsoft documents that an NPS running the extension cannot forward
// to another RADIUS server (Learn: entra/identity/authentication/howto-mfa-nps-extension, prerequisites and
// howto-mfa-nps-extension-vpn), so forwarding timeouts live on this role, never on an NpsServer.
import * as pulumi from "@pulumi/pulumi";
import type { RadiusProxyConfig } from "../config/schema";
import { RadiusTimeout, WindowsProviderOptions } from "../providers/windows";
import { winrmInputs } from "./npsServer";

export const radiusProxyComponentType = "npsmfa:index:RadiusProxy";

export interface RadiusProxyArgs {
  server: RadiusProxyConfig;
  /** Tests only: how providers reach the host. */
  providerOptions?: WindowsProviderOptions;
}

export class RadiusProxy extends pulumi.ComponentResource {
  readonly forwardingTimeout: RadiusTimeout;

  constructor(name: string, args: RadiusProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(radiusProxyComponentType, name, {}, opts);
    const { server } = args;
    // Every server of every remote RADIUS server group gets at least the timeout: the person approving on a
    // phone waits behind the proxy just as behind a VPN server.
    this.forwardingTimeout = new RadiusTimeout(
      `${name}-forwarding-timeout`,
      {
        hostname: server.hostname,
        winrm: winrmInputs(server.winrm),
        npsServers: [],
        timeoutSeconds: server.radiusTimeoutSeconds,
        remoteServerGroups: true,
      },
      { parent: this },
      args.providerOptions,
    );
    this.registerOutputs({ radiusTimeoutSeconds: this.forwardingTimeout.liveTimeouts });
  }
}
