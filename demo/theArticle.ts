// What the article describes, done to a working lab behind the tool's back: both MFA service principals
// disabled, the NPS certificates' keys gone from the Client service principal, the extension's registry
// values down to TENANT_ID (as lab/windows/hostState.ts articleNpsHost seeds them), and RRAS's RADIUS
// timeouts back to its 5 s default. IAS keeps running what it loaded, as Windows' does until a restart.
import { mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import type { RunningLab } from "../lab/cli";
import {
  articleNpsHost,
  azureMfaKey,
  rrasDefaultTimeoutSeconds,
  updateHostState,
} from "../lab/windows/hostState";

/** Breaks the lab as the article found its estate; returns what was done, in a person's words. */
export async function breakAsTheArticle(lab: RunningLab): Promise<string[]> {
  await lab.graph.changeServicePrincipal(mfaClientAppId, (client) => ({
    ...client,
    accountEnabled: false,
    keyCredentials: [],
  }));
  await lab.graph.changeServicePrincipal(mfaConnectorAppId, (connector) => ({
    ...connector,
    accountEnabled: false,
  }));
  const nps = lab.description.hosts.filter((host) => host.role === "nps");
  for (const host of nps) {
    updateHostState(host.stateFile, (state) => {
      state.registry[azureMfaKey] = articleNpsHost(host.name, lab.description.tenantId).registry[azureMfaKey];
    });
  }
  const vpn = lab.description.hosts.filter((host) => host.role === "vpn");
  for (const host of vpn) {
    updateHostState(host.stateFile, (state) =>
      state.remoteAccessRadius.forEach((entry) => (entry.timeout = rrasDefaultTimeoutSeconds)),
    );
  }
  return [
    "both MFA service principals (Client and Connector) disabled in the tenant,",
    `the NPS certificates' keys removed from the Client service principal,`,
    `the extension's registry values on ${nps.map((host) => host.name).join(", ")} down to TENANT_ID,`,
    `and ${vpn.map((host) => host.name).join(", ")}'s RADIUS timeouts back to RRAS's default, ${rrasDefaultTimeoutSeconds} s.`,
  ];
}
