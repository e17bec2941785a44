// The stack config as a dynamic provider sees it in `configure`: the engine hands over every key,
// secrets decrypted. Providers read credentials here, at run time, so nothing secret is captured in
// the serialized provider or written to state.
import {
  configKeys,
  configNamespace,
  parseStackConfig,
  RawStackConfig,
  StackConfig,
  WinrmEndpointConfig,
} from "./schema";

/** The part of pulumi.dynamic.Config providers use. */
export interface ProviderConfigSource {
  get(key: string): string | undefined;
}

export function readProviderConfig(source: ProviderConfigSource): StackConfig {
  const values: RawStackConfig["values"] = {};
  for (const key of configKeys) {
    const text = source.get(`${configNamespace}:${key}`);
    if (text !== undefined) values[key] = text;
  }
  // The program already refused plain-text secrets; here every key is as the engine decrypted it.
  return parseStackConfig({ values, secretKeys: [...configKeys] });
}

/** The WinRM endpoint (with password) configured for a host, NPS or VPN; throws naming the host if none. */
export function winrmEndpointFor(config: StackConfig, hostname: string): WinrmEndpointConfig {
  const wanted = hostname.toLowerCase();
  const server = [...config.npsServers, ...config.vpnServers].find(
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
