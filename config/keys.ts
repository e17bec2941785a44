// Names and defaults of the stack settings, free of zod so dynamic providers can use them: Pulumi
// serializes provider code by value, and zod's native bound functions cannot be serialized.

/** Pulumi config namespace of every setting (`npsmfa:tenantId`, ...), whatever the project is called. */
export const configNamespace = "npsmfa";

/** Top-level keys; object-valued ones arrive from Pulumi as JSON text. */
export const configKeys = [
  "tenantId",
  "cloud",
  "npsServers",
  "vpnServers",
  "radiusProxies",
  "extension",
  "radiusAuthentication",
  "iasHealthCheckSeconds",
  "graph",
  "tenantOnly",
] as const;
export type ConfigKey = (typeof configKeys)[number];

export const configDefaults = {
  cloud: "public",
  winrmAuth: "ntlm",
  winrmOperationTimeoutSeconds: 60,
  certificateRenewalDays: 60,
  radiusTimeoutSeconds: 60,
  iasHealthCheckSeconds: 10,
} as const;

/**
 * How RADIUS clients prove the user's password to the NPS servers (the network policy's authentication
 * methods): Windows' VPN client uses MS-CHAPv2 or EAP; only PAP carries a TOTP code (Learn,
 * howto-mfa-nps-extension "Authentication methods"; how-to-mfa-number-match "NPS extension").
 */
export const radiusAuthenticationProtocols = ["pap", "mschapv2", "eap"] as const;
export type RadiusAuthentication = (typeof radiusAuthenticationProtocols)[number];
