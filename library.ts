// The package's entry (`import { ... } from "npsmfa"`): the components a Pulumi program declares its estate
// with, the estate in one call, the settings' schema and types, and the policy pack's rules.
export { MfaTenant, MfaTenantArgs } from "./components/mfaTenant";
export { NpsServer, NpsServerArgs, npsRollout, NpsRolloutOptions } from "./components/npsServer";
export { VpnServer, VpnServerArgs } from "./components/vpnServer";
export { RadiusProxy, RadiusProxyArgs } from "./components/radiusProxy";
export { declareEstate, EstateOutputs } from "./components/estate";
export { buildProgram } from "./program";
export { loadStackConfig } from "./config/load";
export { parseEstateSettings } from "./config/estateSettings";
export {
  ConfigError,
  EstateSettings,
  ExtensionConfig,
  GraphConfig,
  minimumRadiusTimeoutSeconds,
  NpsServerConfig,
  parseStackConfig,
  RadiusProxyConfig,
  RawStackConfig,
  StackConfig,
  stackConfigJsonSchema,
  VpnServerConfig,
  WinrmEndpointConfig,
} from "./config/schema";
export { configKeys, configNamespace } from "./config/keys";
export * from "./policies/allRules";
