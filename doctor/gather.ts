// The doctor's I/O: the tenant's two MFA service principals in one Graph $batch, and each server's facts in
// one Doctor.ps1 run, every server at once. Reads only: no PATCH, POST or Set on any host.
import { extensionHosts, mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import type { StackConfig, WinrmEndpointConfig } from "../config/schema";
import type { GraphKeyCredential } from "../providers/entra/keyCredentials";
import { authzLogNames } from "../providers/windows/iasRestart";
import type { GraphClient } from "../remote/graph/client";
import { PowerShellRunner, runHostScript } from "../remote/hostScripts";
import type {
  EstateFacts,
  NpsHostFacts,
  ProxyHostFacts,
  ServicePrincipalFacts,
  TenantFacts,
  VpnHostFacts,
} from "./facts";

/** What reaching any server takes: its name and WinRM endpoint. */
type WinrmServer = { hostname: string; winrm: WinrmEndpointConfig };

export interface GatherOptions {
  graph: GraphClient;
  runnerFor(hostname: string, endpoint: WinrmEndpointConfig): PowerShellRunner;
  since: Date;
  now: Date;
  /** One line per event worth showing while it runs (a host read started or done). */
  progress?(line: string): void;
}

const displayNames: Record<string, string> = {
  [mfaClientAppId]: "Azure Multi-Factor Auth Client",
  [mfaConnectorAppId]: "Azure Multi-Factor Auth Connector",
};

function servicePrincipalPath(appId: string): string {
  const select = "id,appId,displayName,accountEnabled,keyCredentials";
  return `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}&$select=${select}`;
}

/** Both service principals in one $batch (keyCredentials come without `key`: thumbprints are enough). */
export async function readTenantFacts(graph: GraphClient, config: StackConfig): Promise<TenantFacts> {
  const appIds = [mfaClientAppId, mfaConnectorAppId];
  const answers = await graph.getMany(appIds.map(servicePrincipalPath));
  const [client, connector] = answers.map((answer, index): ServicePrincipalFacts => {
    const appId = appIds[index];
    if (answer.status !== 200) {
      const body = JSON.stringify(answer.body ?? {});
      throw new Error(
        `Microsoft Graph: reading the service principal of ${displayNames[appId]} (appId ${appId}) answered ${answer.status}: ${body}`,
      );
    }
    const found = (answer.body as { value?: Record<string, unknown>[] }).value?.[0];
    return {
      appId,
      displayName: (found?.displayName as string | undefined) ?? displayNames[appId],
      id: found?.id as string | undefined,
      found: found !== undefined,
      accountEnabled: found?.accountEnabled === true,
      keyCredentials: (found?.keyCredentials as GraphKeyCredential[] | undefined) ?? [],
    };
  });
  return { tenantId: config.tenantId, cloud: config.cloud, client, connector };
}

function unreachable(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One Doctor.ps1 run on one server. What the script leaves null takes the value in `empty` (ConvertTo-Json
 * writes an empty PowerShell list as null: read it as "none"); an unreachable server is `empty` with why.
 */
async function readHost<T extends object>(
  options: GatherOptions,
  server: WinrmServer,
  data: Record<string, unknown>,
  empty: T,
): Promise<T & { hostname: string; unreachable?: string }> {
  try {
    const facts = await runHostScript<Record<string, unknown>>(
      options.runnerFor(server.hostname, server.winrm),
      server.hostname,
      "Doctor",
      data,
    );
    const present = Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== null));
    return { ...empty, ...present, hostname: server.hostname };
  } catch (error) {
    return { ...empty, hostname: server.hostname, unreachable: unreachable(error) };
  }
}

const emptyNpsHost: Omit<NpsHostFacts, "hostname"> = {
  certificates: [],
  extensionSettings: null,
  authorizationDlls: [],
  extensionDlls: [],
  extensionVersion: null,
  iasStatus: null,
  tls12: {
    clientEnabled: null,
    clientDisabledByDefault: null,
    serverEnabled: null,
    strongCrypto: null,
    strongCryptoWow6432: null,
  },
  endpoints: [],
  events: [],
};

function readNpsHost(
  options: GatherOptions,
  config: StackConfig,
  server: WinrmServer,
): Promise<NpsHostFacts> {
  const data = {
    role: "nps",
    tenantId: config.tenantId,
    since: options.since.toISOString(),
    authzLogNames,
    endpoints: extensionHosts(config.cloud),
  };
  return readHost(options, server, data, emptyNpsHost);
}

async function withProgress<T extends object>(
  options: GatherOptions,
  what: string,
  read: () => Promise<T>,
): Promise<T> {
  options.progress?.(`reading ${what} ...`);
  const started = Date.now();
  const result = await read();
  // Host reads never throw: an unreachable host comes back with `unreachable` set.
  const failed = "unreachable" in result && Boolean(result.unreachable);
  options.progress?.(
    `${failed ? "could not read" : "read"} ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return result;
}

export async function gatherFacts(config: StackConfig, options: GatherOptions): Promise<EstateFacts> {
  const [tenant, npsHosts, vpnHosts, proxyHosts] = await Promise.all([
    withProgress(options, "the tenant", () => readTenantFacts(options.graph, config)),
    Promise.all(
      config.npsServers.map((server) =>
        withProgress(options, server.hostname, () => readNpsHost(options, config, server)),
      ),
    ),
    Promise.all(
      config.vpnServers.map((server) =>
        withProgress(options, server.hostname, (): Promise<VpnHostFacts> =>
          readHost(options, server, { role: "vpn" }, { radiusServers: [] }),
        ),
      ),
    ),
    Promise.all(
      config.radiusProxies.map((server) =>
        withProgress(options, server.hostname, (): Promise<ProxyHostFacts> =>
          readHost(options, server, { role: "proxy" }, { remoteServers: [] }),
        ),
      ),
    ),
  ]);
  return {
    tenant,
    npsHosts,
    vpnHosts,
    proxyHosts,
    declaredRadius: Object.fromEntries(
      config.vpnServers.map((server) => [server.hostname, server.npsServers]),
    ),
    renewalDays: Object.fromEntries(
      config.npsServers.map((server) => [server.hostname, server.certificateRenewalDays]),
    ),
    since: options.since.toISOString(),
    now: options.now.toISOString(),
  };
}
