// Builds the component tree from a validated configuration. Kept apart from index.ts so tests can run
// it under pulumi.runtime.setMocks with any configuration.
import { StackConfig } from "./config/schema";

export interface ProgramOutputs {
  tenantId: string;
  cloud: string;
  npsServers: string[];
  vpnServers: string[];
}

export function buildProgram(config: StackConfig): ProgramOutputs {
  return {
    tenantId: config.tenantId,
    cloud: config.cloud,
    npsServers: config.npsServers.map((server) => server.hostname),
    vpnServers: config.vpnServers.map((server) => server.hostname),
  };
}
