// Builds the component tree from a validated configuration. Kept apart from index.ts so tests can run
// it under pulumi.runtime.setMocks with any configuration.
import { StackConfig } from "./config/schema";
import { MfaTenant } from "./components/mfaTenant";
import { npsRollout } from "./components/npsServer";
import { RadiusProxy } from "./components/radiusProxy";
import { VpnServer } from "./components/vpnServer";

export interface ProgramOutputs {
  tenantId: string;
  cloud: string;
  npsServers: string[];
  vpnServers: string[];
  radiusProxies: string[];
}

export function buildProgram(config: StackConfig): ProgramOutputs {
  const tenant = new MfaTenant("tenant", { tenantId: config.tenantId });
  npsRollout(config, { tenantReady: tenant.servicePrincipals });
  for (const server of config.vpnServers) new VpnServer(server.hostname, { server });
  for (const server of config.radiusProxies) new RadiusProxy(server.hostname, { server });
  return {
    tenantId: config.tenantId,
    cloud: config.cloud,
    npsServers: config.npsServers.map((server) => server.hostname),
    vpnServers: config.vpnServers.map((server) => server.hostname),
    radiusProxies: config.radiusProxies.map((server) => server.hostname),
  };
}
