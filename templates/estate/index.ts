// The estate this stack keeps, from its `npsmfa:` settings (Pulumi.<stack>.yaml; README.md lists them).
import { buildProgram, loadStackConfig } from "npsmfa";

const estate = buildProgram(loadStackConfig());

export const npsServers = estate.npsServers;
export const vpnServers = estate.vpnServers;
