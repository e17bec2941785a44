// One VPN (RRAS) server: a RADIUS timeout long enough for MFA for each NPS server it sends RADIUS to.
import * as pulumi from "@pulumi/pulumi";
import type { VpnServerConfig } from "../config/schema";
import { componentTypes } from "../providers/resourceTypes";
import { RadiusTimeout, WindowsProviderOptions } from "../providers/windows";
import { winrmInputs } from "./npsServer";

export interface VpnServerArgs {
  server: VpnServerConfig;
  /** Tests only: how providers reach the host. */
  providerOptions?: WindowsProviderOptions;
}

export class VpnServer extends pulumi.ComponentResource {
  readonly radiusTimeout: RadiusTimeout;

  constructor(name: string, args: VpnServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentTypes.vpnServer, name, {}, opts);
    const { server } = args;
    this.radiusTimeout = new RadiusTimeout(
      `${name}-radius-timeout`,
      {
        hostname: server.hostname,
        winrm: winrmInputs(server.winrm),
        npsServers: server.npsServers,
        timeoutSeconds: server.radiusTimeoutSeconds,
      },
      { parent: this },
      args.providerOptions,
    );
    this.registerOutputs({ radiusTimeoutSeconds: this.radiusTimeout.liveTimeouts });
  }
}
