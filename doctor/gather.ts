// The doctor's I/O: the tenant's two MFA service principals in one Graph $batch, and each server's facts in
// one Doctor.ps1 run, every server at once. Reads only: no PATCH, POST or Set on any host.
import { extensionHosts, mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import type { StackConfig, WinrmEndpointConfig } from "../config/schema";
import type { GraphKeyCredential } from "../providers/entra/keyCredentials";
import { authzLogNames } from "../providers/windows/iasRestart";
import type { BatchResponse } from "../remote/graph/batch";
import type { GraphClient } from "../remote/graph/client";
import { PowerShellRunner, runHostScript } from "../remote/hostScripts";
import type {
  EstateFacts,
  NpsHostFacts,
  ProxyHostFacts,
  ServicePrincipalFacts,
  TenantFacts,
  UserFacts,
  VpnHostFacts,
} from "./facts";

/** What reaching any server takes: its name and WinRM endpoint. */
type WinrmServer = { hostname: string; winrm: WinrmEndpointConfig };

export interface GatherOptions {
  graph: GraphClient;
  runnerFor(hostname: string, endpoint: WinrmEndpointConfig): PowerShellRunner;
  since: Date;
  now: Date;
  /** --user: the UPN whose sign-in to judge. */
  user?: string;
  /** One line per event worth showing while it runs (a host read started or done). */
  progress?(line: string): void;
  /** Each NPS server also makes the extension's token request in the same script run (the monitor). */
  probeToken?: boolean;
}

const displayNames: Record<string, string> = {
  [mfaClientAppId]: "Azure Multi-Factor Auth Client",
  [mfaConnectorAppId]: "Azure Multi-Factor Auth Connector",
};

function servicePrincipalPath(appId: string): string {
  const select = "id,appId,displayName,accountEnabled,keyCredentials";
  return `/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${appId}'`)}&$select=${select}`;
}

/** The user's properties the checks need (not in Graph's default set) and their registered methods. */
function userPaths(upn: string): string[] {
  const user = `/users/${encodeURIComponent(upn)}`;
  const select = "id,userPrincipalName,accountEnabled,onPremisesSyncEnabled,onPremisesUserPrincipalName";
  return [`${user}?$select=${select}`, `${user}/authentication/methods`];
}

function graphRefusal(answer: BatchResponse, needs: string): string {
  const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const hint = answer.status === 403 ? ` (the doctor's application needs ${needs})` : "";
  return `Graph answered ${answer.status} ${error?.code ?? ""}: ${error?.message ?? ""}${hint}`.trim();
}

/** --user: 404 is "no such user"; any other refusal is kept as why the user could not be judged. */
export function userFacts(upn: string, user: BatchResponse, methods: BatchResponse): UserFacts {
  const facts: UserFacts = { upn, found: false, methods: [] };
  if (user.status === 404) return facts;
  if (user.status !== 200) return { ...facts, readError: graphRefusal(user, "User.Read.All") };
  const body = user.body as Record<string, unknown>;
  return {
    ...facts,
    found: true,
    userPrincipalName: body.userPrincipalName as string,
    accountEnabled: body.accountEnabled === true,
    onPremisesSyncEnabled: (body.onPremisesSyncEnabled as boolean | null | undefined) ?? null,
    onPremisesUserPrincipalName: (body.onPremisesUserPrincipalName as string | null | undefined) ?? null,
    ...(methods.status === 200
      ? {
          methods: ((methods.body as { value?: { "@odata.type"?: string }[] }).value ?? []).map((method) =>
            (method["@odata.type"] ?? "").replace(/^#microsoft\.graph\./, ""),
          ),
        }
      : { methodsError: graphRefusal(methods, "UserAuthenticationMethod.Read.All") }),
  };
}

/**
 * Both service principals, and with --user the user and their methods, in one $batch (keyCredentials come
 * without `key`: thumbprints are enough).
 */
export async function readTenantFacts(
  graph: GraphClient,
  config: StackConfig,
  upn?: string,
): Promise<TenantFacts> {
  const appIds = [mfaClientAppId, mfaConnectorAppId];
  const answers = await graph.getMany([
    ...appIds.map(servicePrincipalPath),
    ...(upn === undefined ? [] : userPaths(upn)),
  ]);
  const [client, connector] = answers.slice(0, 2).map((answer, index): ServicePrincipalFacts => {
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
  return {
    tenantId: config.tenantId,
    cloud: config.cloud,
    client,
    connector,
    ...(upn === undefined ? {} : { user: userFacts(upn, answers[2], answers[3]) }),
  };
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
  iasRestartPending: null,
  networkPolicies: null,
  tls12: {
    clientEnabled: null,
    clientDisabledByDefault: null,
    serverEnabled: null,
    strongCrypto: null,
    strongCryptoWow6432: null,
  },
  endpoints: [],
  events: [],
  tokenProbe: null,
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
    probeToken: options.probeToken ?? false,
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
    withProgress(options, "the tenant", () => readTenantFacts(options.graph, config, options.user)),
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
    ...(config.extension.minimumVersion ? { minimumExtensionVersion: config.extension.minimumVersion } : {}),
    since: options.since.toISOString(),
    now: options.now.toISOString(),
  };
}
