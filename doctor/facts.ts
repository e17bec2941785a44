// What the doctor reads, in plain data: the tenant's two MFA service principals and, per server, what
// remote/scripts/Doctor.ps1 found there. The checks (diagnose.ts) are pure functions of these facts.
import type { CloudName } from "../config/clouds";
import type { GraphKeyCredential } from "../providers/entra/keyCredentials";

export interface ServicePrincipalFacts {
  appId: string;
  displayName: string;
  /** The service principal's object id, when it exists. */
  id?: string;
  found: boolean;
  accountEnabled: boolean;
  keyCredentials: GraphKeyCredential[];
}

/** What Graph answered about the user of --user; a part Graph refused to show carries why instead. */
export interface UserFacts {
  /** The UPN asked for. */
  upn: string;
  /** Why the user could not be read (403: the doctor's application lacks User.Read.All, ...). */
  readError?: string;
  found: boolean;
  userPrincipalName?: string;
  accountEnabled?: boolean;
  onPremisesSyncEnabled?: boolean | null;
  onPremisesUserPrincipalName?: string | null;
  /** Graph types of the registered methods, without the namespace (phoneAuthenticationMethod, ...). */
  methods: string[];
  methodsError?: string;
}

export interface TenantFacts {
  tenantId: string;
  cloud: CloudName;
  client: ServicePrincipalFacts;
  connector: ServicePrincipalFacts;
  /** With --user only. */
  user?: UserFacts;
}

/** sdoias.h AUTHENTICATION_TYPE values (Learn: windows/win32/api/sdoias/ne-sdoias-authentication_type). */
export const authenticationTypeNames: Record<number, string> = {
  1: "PAP",
  2: "CHAP",
  3: "MS-CHAP",
  4: "MS-CHAPv2",
  5: "EAP",
  7: "unauthenticated",
  9: "MS-CHAP (password change)",
  10: "MS-CHAPv2 (password change)",
  11: "PEAP",
};

/** The AUTHENTICATION_TYPE values the doctor and the lab name in code. */
export const authenticationTypes = { pap: 1, mschapv2: 4, eap: 5 } as const;

// Learn, howto-mfa-nps-extension "Authentication methods": PAP carries every Entra MFA method (phone call,
// text message, app notification, OATH codes); CHAPv2 and EAP only a phone call and an app notification.
// Methods the extension cannot use at all (FIDO2, Windows Hello, email, temporary access pass) do not count.
export const methodsWithPap: ReadonlySet<string> = new Set([
  "microsoftAuthenticatorAuthenticationMethod",
  "phoneAuthenticationMethod",
  "softwareOathAuthenticationMethod",
  "hardwareOathAuthenticationMethod",
]);
export const methodsWithoutPap: ReadonlySet<string> = new Set([
  "microsoftAuthenticatorAuthenticationMethod",
  "phoneAuthenticationMethod",
]);

/**
 * Graph method types that give the user a TOTP code: a software OATH token (an authenticator app's codes,
 * Microsoft Authenticator's among them when registered for codes) and a hardware OATH token. From extension
 * 1.2.2216.1 such a user is asked for a TOTP (Learn: how-to-mfa-number-match, "NPS extension").
 */
export const totpMethodTypes: readonly string[] = [
  "softwareOathAuthenticationMethod",
  "hardwareOathAuthenticationMethod",
];

/** An NPS network policy and the authentication types (sdoias.h AUTHENTICATION_TYPE) its profile allows. */
export interface NetworkPolicyFacts {
  name: string;
  merit: number;
  enabled: boolean;
  authenticationTypes: number[];
}

export interface HostCertificateFacts {
  thumbprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  hasPrivateKey: boolean;
  /** Whether NETWORK SERVICE (S-1-5-20), the account IAS runs as, may read the private key. */
  networkServiceCanRead: boolean;
}

export interface HostEventFacts {
  logName: string;
  id: number;
  level: number;
  timeCreated: string;
  message: string;
}

export interface EndpointProbe {
  host: string;
  port: number;
  reachable: boolean;
}

/** Values under SCHANNEL's TLS 1.2 keys and .NET's strong-crypto switches; null where not set. */
export interface Tls12Facts {
  clientEnabled: number | null;
  clientDisabledByDefault: number | null;
  serverEnabled: number | null;
  strongCrypto: number | null;
  strongCryptoWow6432: number | null;
}

/** The synthetic probe: the token request the extension makes, made on the server (HostFacts.ps1). */
export interface TokenProbeFacts {
  ok: boolean;
  /** The certificate it signed with; empty when none was found. */
  thumbprint: string;
  /** The AADSTS code Entra answered with; empty on success or without one. */
  aadsts: string;
  problem: string;
  milliseconds: number;
}

export interface NpsHostFacts {
  hostname: string;
  /** Why the host could not be read; the other fields are then empty. */
  unreachable?: string;
  /** Certificates in Cert:\LocalMachine\My with the extension's subject for this tenant. */
  certificates: HostCertificateFacts[];
  /** HKLM\SOFTWARE\Microsoft\AzureMfa as text values; null when the key does not exist. */
  extensionSettings: Record<string, string> | null;
  /** AuthSrv\Parameters AuthorizationDLLs and ExtensionDLLs. */
  authorizationDlls: string[];
  extensionDlls: string[];
  /** The NPS extension's installed version, null when it is not installed. */
  extensionVersion: string | null;
  iasStatus: string | null;
  /**
   * Whether the AzureMfa values or the extension's certificates changed since IAS last started, by npsmfa's
   * record (remote/scripts/IasLoaded.ps1); null where there is no record (a server npsmfa never changed).
   */
  iasRestartPending: boolean | null;
  /** Network policies through NPS's SDO API; null when they could not be read. */
  networkPolicies: NetworkPolicyFacts[] | null;
  tls12: Tls12Facts;
  endpoints: EndpointProbe[];
  /** AuthZ and Security (6273/6274) events since the doctor's `since`. */
  events: HostEventFacts[];
  /** With the probe asked for (the monitor); null otherwise. */
  tokenProbe: TokenProbeFacts | null;
}

export interface RadiusServerFacts {
  serverName: string;
  purpose: string;
  timeoutSeconds: number;
}

export interface VpnHostFacts {
  hostname: string;
  unreachable?: string;
  radiusServers: RadiusServerFacts[];
}

/** One server of one remote RADIUS server group on a RADIUS proxy (NPS's SDO API). */
export interface RemoteRadiusServerFacts {
  group: string;
  address: string;
  timeoutSeconds: number;
}

export interface ProxyHostFacts {
  hostname: string;
  unreachable?: string;
  remoteServers: RemoteRadiusServerFacts[];
}

export interface EstateFacts {
  tenant: TenantFacts;
  npsHosts: NpsHostFacts[];
  vpnHosts: VpnHostFacts[];
  /** RADIUS proxies (radiusProxies): NPS servers without the extension forwarding to those with it. */
  proxyHosts: ProxyHostFacts[];
  /** Which NPS servers each VPN server is declared to use (stack config or lab.json). */
  declaredRadius: Record<string, string[]>;
  /** Renewal window of each NPS server, days. */
  renewalDays: Record<string, number>;
  /** extension.minimumVersion of the stack, when declared. */
  minimumExtensionVersion?: string;
  /** Start of the window for recent events. */
  since: string;
  now: string;
}
