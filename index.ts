// The Pulumi program: validated stack config in, the desired state of the tenant and its servers out. It
// imports this repository's package by name, as any project that installed it does (`npm install npsmfa`).
import { buildProgram, loadStackConfig } from "npsmfa";

const outputs = buildProgram(loadStackConfig());

export const tenantId = outputs.tenantId;
export const cloud = outputs.cloud;
export const npsServers = outputs.npsServers;
export const vpnServers = outputs.vpnServers;
