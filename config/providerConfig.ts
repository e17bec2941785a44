// The stack config as a dynamic provider sees it in `configure`: the engine hands over every key,
// secrets decrypted. Providers read credentials here, at run time, so nothing secret is captured in
// the serialized provider or written to state.
//
// No zod here on purpose: Pulumi serializes provider code by value and cannot serialize zod's native
// bound functions, and the provider host has no TypeScript loader to `require` the schema module.
// The program validated these very values with config/schema.ts before registering any resource, so
// this reader only parses the JSON and fills in the same defaults (config/keys.ts).
import type { StackConfig, WinrmEndpointConfig } from "./schema";
import { ConfigKey, configDefaults, configNamespace } from "./keys";

/** The part of pulumi.dynamic.Config providers use. */
export interface ProviderConfigSource {
  get(key: string): string | undefined;
}

function jsonSetting<T>(source: ProviderConfigSource, key: ConfigKey, fallback: T): T {
  const text = source.get(`${configNamespace}:${key}`);
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(
      `${configNamespace}:${key}: expected structured YAML (a list or a map), found text that is not`,
    );
  }
}

type RawServer = { hostname: string; winrm: Partial<WinrmEndpointConfig> } & Record<string, unknown>;

function withEndpointDefaults<T extends RawServer>(server: T): T & { winrm: WinrmEndpointConfig } {
  return {
    ...server,
    winrm: {
      auth: configDefaults.winrmAuth,
      operationTimeoutSeconds: configDefaults.winrmOperationTimeoutSeconds,
      ...server.winrm,
    } as WinrmEndpointConfig,
  };
}

export function readProviderConfig(source: ProviderConfigSource): StackConfig {
  const tenantId = source.get(`${configNamespace}:tenantId`);
  if (tenantId === undefined) {
    throw new Error(
      `${configNamespace}:tenantId: expected the Entra tenant ID, found nothing in the stack's config`,
    );
  }
  const npsServers = jsonSetting<RawServer[]>(source, "npsServers", []).map((server) => ({
    certificateRenewalDays: configDefaults.certificateRenewalDays,
    ...withEndpointDefaults(server),
  }));
  const vpnServers = jsonSetting<RawServer[]>(source, "vpnServers", []).map((server) => ({
    radiusTimeoutSeconds: configDefaults.radiusTimeoutSeconds,
    npsServers: [] as string[],
    ...withEndpointDefaults(server),
  }));
  const radiusProxies = jsonSetting<RawServer[]>(source, "radiusProxies", []).map((server) => ({
    radiusTimeoutSeconds: configDefaults.radiusTimeoutSeconds,
    ...withEndpointDefaults(server),
  }));
  return {
    tenantId,
    cloud: (source.get(`${configNamespace}:cloud`) ?? configDefaults.cloud) as StackConfig["cloud"],
    npsServers,
    vpnServers,
    radiusProxies,
    extension: jsonSetting(source, "extension", {}),
    iasHealthCheckSeconds: Number(
      source.get(`${configNamespace}:iasHealthCheckSeconds`) ?? configDefaults.iasHealthCheckSeconds,
    ),
    graph: jsonSetting(source, "graph", {}),
    tenantOnly: source.get(`${configNamespace}:tenantOnly`) === "true",
  };
}

/** The WinRM endpoint (with password) configured for a host, NPS or VPN; throws naming the host if none. */
export function winrmEndpointFor(config: StackConfig, hostname: string): WinrmEndpointConfig {
  const wanted = hostname.toLowerCase();
  const server = [...config.npsServers, ...config.vpnServers, ...config.radiusProxies].find(
    (entry) => entry.hostname.toLowerCase() === wanted,
  );
  if (!server) {
    throw new Error(
      `${hostname}: no WinRM endpoint in ${configNamespace}:npsServers or ${configNamespace}:vpnServers. ` +
        "The host was removed from the stack's config while its resources remain: put it back, or remove its resources.",
    );
  }
  return server.winrm;
}
