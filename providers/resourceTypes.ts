// The resource types this project registers, and the inputs each carries. One place, because the
// providers create them, the components declare them and the policy pack recognises them by these
// names and fields: a rename here is a rename everywhere, checked by the compiler.
import type { RadiusAuthentication } from "../config/keys";

/** Module of every dynamic resource: types read `pulumi-nodejs:dynamic/npsmfa:<Type>`. */
export const dynamicModule = "npsmfa";

export const dynamicTypeNames = {
  servicePrincipalEnabled: "ServicePrincipalEnabled",
  npsCertificateCredential: "NpsCertificateCredential",
  npsSupersededKeys: "NpsSupersededKeys",
  npsCertificate: "NpsCertificate",
  npsExtensionSettings: "NpsExtensionSettings",
  npsExtensionInstall: "NpsExtensionInstall",
  radiusTimeout: "RadiusTimeout",
  iasRestart: "IasRestart",
} as const;

export type DynamicTypeName = (typeof dynamicTypeNames)[keyof typeof dynamicTypeNames];

/**
 * Whether a type token is a dynamic resource's: `pulumi-nodejs:dynamic/<module>:<Type>`, or
 * `pulumi-nodejs:dynamic:Resource` for one the SDK registers without a module.
 */
export function isDynamicType(type: string): boolean {
  return type.startsWith("pulumi-nodejs:dynamic:") || type.startsWith("pulumi-nodejs:dynamic/");
}

/** The full type token the engine and CrossGuard see for one of our dynamic resources. */
export function dynamicTypeToken(name: DynamicTypeName): string {
  return `pulumi-nodejs:dynamic/${dynamicModule}:${name}`;
}

export const componentTypes = {
  mfaTenant: "npsmfa:index:MfaTenant",
  npsServer: "npsmfa:index:NpsServer",
  vpnServer: "npsmfa:index:VpnServer",
} as const;

/**
 * How a provider reaches a Windows host. Deliberately without the password: providers look the
 * password up in the stack's config in `configure`, so it never enters state or the serialized provider.
 */
export interface WinrmEndpointInputs {
  url: string;
  auth: "ntlm" | "basic" | "certificate";
  username?: string;
  caFile?: string;
  thumbprint?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
  operationTimeoutSeconds: number;
}

/** The public part of an NPS server's certificate, as it travels from host to tenant. */
export interface NpsCertificatePublicPart {
  /** Base64 of the DER-encoded certificate. */
  derBase64: string;
  /** SHA-1 thumbprint, upper-case hex, as Windows shows it. */
  thumbprint: string;
  /** ISO 8601. */
  notBefore: string;
  /** ISO 8601. */
  notAfter: string;
}

/** A first-party service principal that must exist and be enabled. Never deleted or disabled by us. */
export interface ServicePrincipalEnabledInputs {
  appId: string;
  displayName: string;
  accountEnabled: boolean;
}

/** One NPS server's certificate registered on the MFA Client service principal's keyCredentials. */
export interface NpsCertificateCredentialInputs {
  clientAppId: string;
  npsHostname: string;
  certificate: NpsCertificatePublicPart;
  renewalDays: number;
}

/** An NPS server's older keys leave the Client service principal once IAS runs the new certificate. */
export interface NpsSupersededKeysInputs {
  clientAppId: string;
  npsHostname: string;
  /** Thumbprints whose keys stay: the declared certificate and the one IAS loaded at its last restart. */
  keepThumbprints: string[];
}

/** The certificate on the NPS host (LocalMachine\My, readable by NETWORK SERVICE). */
export interface NpsCertificateInputs {
  hostname: string;
  winrm: WinrmEndpointInputs;
  tenantId: string;
  renewalDays: number;
  /** Declared true: a certificate with the subject and its private key, valid beyond the renewal window. */
  usableCertificate?: boolean;
  /** Declared true: NETWORK SERVICE (which IAS runs as) can read the private key. */
  keyReadableByNetworkService?: boolean;
}

/** What an NpsCertificate reads back from its host: the policy pack checks its thumbprint and expiry. */
export interface NpsCertificateOutputs extends NpsCertificateInputs {
  certificate: NpsCertificatePublicPart;
}

/** Registry values under HKLM\SOFTWARE\Microsoft\AzureMfa, by value name (TENANT_ID, CLIENT_ID, ...). */
export interface NpsExtensionSettingsInputs {
  hostname: string;
  winrm: WinrmEndpointInputs;
  settings: Record<string, string>;
  /**
   * The protocol the stack declares its network policy allows (stack setting radiusAuthentication); not
   * applied to the host: the policy pack reads it to judge OVERRIDE_NUMBER_MATCHING_WITH_OTP.
   */
  radiusAuthentication?: RadiusAuthentication;
  /** The oldest extension version the stack accepts (extension.minimumVersion): older is drift, and apply refuses. */
  minimumExtensionVersion?: string;
  /** Declared true: the extension's DLLs are registered with NPS (AuthSrv\Parameters). */
  extensionInstalled?: boolean;
  /**
   * When `<nps>-extension-install` last installed the extension ("" never): an install may reset the values, so
   * a new time here applies them all again, in the same `up`.
   */
  extensionInstalledAt?: string;
}

/** Where an NPS server fetches the extension's installer, and the hash the file must have. */
export interface ExtensionInstallerInputs {
  source: string;
  sha256: string;
}

/** The NPS extension on one NPS server, installed or upgraded from the declared installer when below the minimum. */
export interface NpsExtensionInstallInputs {
  hostname: string;
  winrm: WinrmEndpointInputs;
  installer: ExtensionInstallerInputs;
  /** extension.minimumVersion; absent: only a server without the extension gets it. */
  minimumVersion?: string;
  /** Declared true: the extension is installed, at or above minimumVersion. Read from the host. */
  versionSatisfied?: boolean;
}

/** RADIUS authentication timeout on a VPN (RRAS) server for each NPS server it uses. */
export interface RadiusTimeoutInputs {
  hostname: string;
  winrm: WinrmEndpointInputs;
  npsServers: string[];
  timeoutSeconds: number;
  /** Also every server of every remote RADIUS server group on this host (an NPS that forwards). */
  remoteServerGroups?: boolean;
}

/** A restart of IAS on one NPS server, after the previous server's restart in the rollout. */
export interface IasRestartInputs {
  hostname: string;
  winrm: WinrmEndpointInputs;
  /** The NPS server restarted just before this one; absent for the first. */
  previousHostname?: string;
  /** Values whose change means IAS must restart to load them (certificate thumbprint, settings). */
  triggers: Record<string, string>;
  /** Seconds after the restart during which IAS must stay healthy (default 10). */
  healthCheckSeconds?: number;
  /** After a healthy restart, remove certificates with this subject other than the one kept. */
  retireCertificates?: { subject: string; keepThumbprint: string };
  /** The health check also acquires a token as the NPS extension does (the rollout always asks for it). */
  checkExtensionToken?: boolean;
}
