// The Pulumi program: validated stack config in, the desired state of the tenant and its servers out.
import { loadStackConfig } from "./config/load";
import { buildProgram } from "./program";

const outputs = buildProgram(loadStackConfig());

export const tenantId = outputs.tenantId;
export const cloud = outputs.cloud;
export const npsServers = outputs.npsServers;
export const vpnServers = outputs.vpnServers;
