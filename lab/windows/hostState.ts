// Seeds and reads the JSON state file of a lab Windows host, the one lab/windows/WindowsShim.psm1 serves
// the Windows cmdlets from. docs/windows.md documents the format; these types are its schema.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import forge from "node-forge";
import { cloudEndpoints, CloudName, mfaClientAppId, mfaTargetPath } from "../../config/clouds";

/** Path of the shim module a lab host imports before it runs a script. */
export const windowsShimModulePath = path.join(__dirname, "WindowsShim.psm1");

export const azureMfaKey = "HKLM:\\SOFTWARE\\Microsoft\\AzureMfa";
export const authSrvParametersKey = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AuthSrv\\Parameters";
export const networkServiceSid = "S-1-5-20";

/** REG_SZ as a string, REG_DWORD as a number, REG_MULTI_SZ as a list of strings. */
export type RegistryValue = string | number | string[];

/** FileSystemRights masks as Windows keeps them in an ACE (FileSystemRights.Read, .FullControl, GENERIC_READ). */
export const fileRights = { read: 131209, fullControl: 2032127, genericRead: -2147483648 } as const;

export interface KeyAccessRule {
  sid: string;
  /** The access mask (a FileSystemRights value; generic bits as Windows stores them). Names are accepted too. */
  rights: number | string;
  type: "Allow" | "Deny";
}

export interface HostCertificate {
  thumbprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  /** PKCS#12 with the private key, no password. */
  pfxBase64: string;
  /** Who holds the key: a CAPI CSP (file under Crypto\RSA\MachineKeys) or a CNG KSP (under Crypto\Keys). */
  keyStorage?: "capi" | "cng";
  /** File name of the key under %ProgramData%\Microsoft\Crypto\RSA\MachineKeys (capi) or ...\Crypto\Keys (cng). */
  keyContainer: string;
  keyAcl: KeyAccessRule[];
}

export interface ServiceHistoryEntry {
  action: "start" | "stop" | "restart";
  stoppedAt?: string;
  startedAt?: string;
  failedAt?: string;
}

export interface HostService {
  displayName: string;
  status: "Running" | "Stopped";
  faults?: { failsToStart?: boolean; authzErrorsAfterRestart?: boolean };
  history?: ServiceHistoryEntry[];
}

export interface HostEvent {
  logName: string;
  id: number;
  /** 2 = Error, 3 = Warning, 4 = Information. */
  level: number;
  providerName: string;
  timeCreated: string;
  message: string;
}

export interface RemoteAccessRadiusEntry {
  serverName: string;
  purpose: "Authentication" | "Accounting";
  timeout: number;
  score?: number;
  port?: number;
}

export interface RemoteRadiusServerGroup {
  name: string;
  servers: { address: string; timeout: number }[];
}

export interface HostState {
  hostname: string;
  /** Key path (HKLM:\...) to its values by name. */
  registry: Record<string, Record<string, RegistryValue>>;
  certificates: HostCertificate[];
  services: Record<string, HostService>;
  events: HostEvent[];
  /** RRAS: Get-RemoteAccessRadius. */
  remoteAccessRadius: RemoteAccessRadiusEntry[];
  /** NPS: file version of the extension's DLLs (Get-Item ...\MfaNpsAuthzExt.dll).VersionInfo; absent: no files. */
  npsExtensionVersion?: string;
  /** RADIUS proxy NPS: its remote RADIUS server groups (NPS's SDO API, New-Object -ComObject IAS.SdoMachine). */
  remoteRadiusServerGroups: RemoteRadiusServerGroup[];
  network: {
    /** "host:port" to whether a TCP connection succeeds (Test-NetConnection). */
    tcpReachable?: Record<string, boolean>;
    /** UDP ports IAS listens on while Running (default 1812, 1813). */
    iasUdpPorts?: number[];
  };
}

/** The extension version lab NPS hosts run: the first to honour CLIENT_CERT_IDENTIFIER as a thumbprint. */
export const currentExtensionVersion = "1.2.2893.1";

const extensionDir = "%ProgramFiles%\\Microsoft\\AzureMfa\\Extensions";

/** AuthSrv parameters as the extension's installer leaves them. */
export function extensionDllRegistration(): Record<string, RegistryValue> {
  return {
    AuthorizationDLLs: [`${extensionDir}\\MfaNpsAuthzExt.dll`],
    ExtensionDLLs: [`${extensionDir}\\MfaNpsAuthnExt.dll`],
  };
}

/** Every AzureMfa registry value the extension needs, for a tenant in a cloud. */
export function completeExtensionSettings(
  tenantId: string,
  cloud: CloudName,
  certificateThumbprint?: string,
): Record<string, RegistryValue> {
  const endpoints = cloudEndpoints[cloud];
  return {
    TENANT_ID: tenantId,
    CLIENT_ID: mfaClientAppId,
    STS_URL: endpoints.loginUrl,
    AZURE_MFA_HOSTNAME: endpoints.mfaHostname,
    AZURE_MFA_RESOURCE_HOSTNAME: endpoints.mfaResourceHostname,
    AZURE_MFA_TARGET_PATH: mfaTargetPath,
    ...(certificateThumbprint ? { CLIENT_CERT_IDENTIFIER: certificateThumbprint } : {}),
  };
}

function iasService(): HostService {
  return { displayName: "Network Policy Server", status: "Running", history: [] };
}

function emptyHost(hostname: string): HostState {
  return {
    hostname,
    registry: { "HKLM:\\SOFTWARE\\Microsoft": {} },
    certificates: [],
    services: {},
    events: [],
    remoteAccessRadius: [],
    remoteRadiusServerGroups: [],
    network: {},
  };
}

/**
 * An NPS server as the article finds it: extension installed, its registry incomplete (only the tenant),
 * no NPS certificate, IAS running, an ESTS_TOKEN_ERROR and a discarded request in the logs.
 */
export function articleNpsHost(hostname: string, tenantId: string, cloud: CloudName = "public"): HostState {
  const host = emptyHost(hostname);
  host.network.tcpReachable = cloudEndpointsReachable(cloud);
  host.registry[authSrvParametersKey] = extensionDllRegistration();
  host.npsExtensionVersion = currentExtensionVersion;
  host.registry[azureMfaKey] = { TENANT_ID: tenantId };
  host.services.IAS = iasService();
  const yesterday = new Date(Date.now() - 86_400_000).toISOString();
  host.events.push(
    {
      logName: "AuthZAdminCh",
      id: 3,
      level: 2,
      providerName: "AuthZ",
      timeCreated: yesterday,
      message: "NPS Extension for Azure MFA: ESTS_TOKEN_ERROR",
    },
    {
      logName: "Security",
      id: 6274,
      level: 4,
      providerName: "Microsoft-Windows-Security-Auditing",
      timeCreated: yesterday,
      message: "Network Policy Server discarded the request for a user.",
    },
  );
  return host;
}

/** The hosts the extension reaches over HTTPS in a cloud, reachable (Test-NetConnection -Port 443). */
export function cloudEndpointsReachable(cloud: CloudName): Record<string, boolean> {
  const endpoints = cloudEndpoints[cloud];
  const hosts = [new URL(endpoints.loginUrl).hostname, endpoints.mfaHostname, endpoints.mfaResourceHostname];
  return Object.fromEntries(hosts.map((name) => [`${name}:443`, true]));
}

/** A VPN (RRAS) server as the article finds it: RADIUS authentication to each NPS with RRAS's 5 s default. */
export function articleVpnHost(hostname: string, npsServers: string[], timeoutSeconds = 5): HostState {
  const host = emptyHost(hostname);
  host.services.RemoteAccess = { displayName: "Routing and Remote Access", status: "Running", history: [] };
  host.remoteAccessRadius = npsServers.map((serverName) => ({
    serverName,
    purpose: "Authentication",
    timeout: timeoutSeconds,
    score: 30,
    port: 1812,
  }));
  return host;
}

/** A healthy NPS server: complete registry (IP_WHITELIST empty) pinned to a valid certificate NETWORK SERVICE can read. */
export function healthyNpsHost(hostname: string, tenantId: string, cloud: CloudName = "public"): HostState {
  const host = articleNpsHost(hostname, tenantId, cloud);
  const certificate = selfSignedNpsCertificate(tenantId);
  host.certificates.push(certificate);
  // IP_WHITELIST empty, as Learn advises when no client skips MFA (the extension logs an error without it).
  host.registry[azureMfaKey] = {
    ...completeExtensionSettings(tenantId, cloud, certificate.thumbprint),
    IP_WHITELIST: "",
  };
  host.events = [];
  return host;
}

/** A real self-signed NPS certificate (CN=<tenant>, OU=Microsoft NPS Extension) as the shim stores it. */
export function selfSignedNpsCertificate(
  tenantId: string,
  options: {
    notBefore?: Date;
    notAfter?: Date;
    networkServiceCanRead?: boolean;
    keyStorage?: "capi" | "cng";
  } = {},
): HostCertificate {
  const notBefore = options.notBefore ?? new Date(Date.now() - 600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 730 * 86_400_000);
  const { privateKey: nodeKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = nodeKey.export({ type: "pkcs8", format: "pem" }).toString();
  const privateKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  certificate.serialNumber = `01${crypto.randomBytes(8).toString("hex")}`;
  certificate.validity.notBefore = notBefore;
  certificate.validity.notAfter = notAfter;
  // Windows shows a subject's RDNs last-encoded first: encoding OU then CN is what New-SelfSignedCertificate
  // -Subject "CN=<tenant>, OU=Microsoft NPS Extension" stores, and what the NPS extension looks for.
  const subject = [
    { shortName: "OU", value: "Microsoft NPS Extension" },
    { shortName: "CN", value: tenantId },
  ];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.sign(privateKey, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(), "binary");
  const pfx = forge.pkcs12.toPkcs12Asn1(privateKey, [certificate], null, { algorithm: "3des" });
  const keyAcl: KeyAccessRule[] = [
    { sid: "S-1-5-18", rights: fileRights.fullControl, type: "Allow" },
    { sid: "S-1-5-32-544", rights: fileRights.fullControl, type: "Allow" },
  ];
  if (options.networkServiceCanRead ?? true)
    keyAcl.push({ sid: networkServiceSid, rights: fileRights.read, type: "Allow" });
  return {
    thumbprint: crypto.createHash("sha1").update(der).digest("hex").toUpperCase(),
    subject: `CN=${tenantId}, OU=Microsoft NPS Extension`,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    pfxBase64: Buffer.from(forge.asn1.toDer(pfx).getBytes(), "binary").toString("base64"),
    keyStorage: options.keyStorage ?? "capi",
    keyContainer: `${crypto.randomBytes(16).toString("hex")}_${crypto.randomUUID()}`,
    keyAcl,
  };
}

/** The X.509 part of a seeded certificate, DER in base64, as Graph's keyCredentials hold it. */
export function certificateDerBase64(certificate: HostCertificate): string {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(certificate.pfxBase64)));
  const bag = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]?.[0];
  if (!bag?.cert) throw new Error(`lab: the seeded certificate ${certificate.thumbprint} has no X.509 part`);
  return forge.util.encode64(forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes());
}

/** Writes a host's state atomically (temporary file, then rename), as the shim does. */
export function writeHostState(file: string, state: HostState): void {
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(state, null, 2));
  fs.renameSync(temporary, file);
}

export function readHostState(file: string): HostState {
  return JSON.parse(fs.readFileSync(file, "utf8")) as HostState;
}

/** Reads, changes and writes back a host's state (for tests that add a fault or drift). */
export function updateHostState(file: string, change: (state: HostState) => void): HostState {
  const state = readHostState(file);
  change(state);
  writeHostState(file, state);
  return state;
}

/** IAS restarts recorded on a host, oldest first. */
export function iasRestarts(state: HostState): ServiceHistoryEntry[] {
  return (state.services.IAS?.history ?? []).filter((entry) => entry.action === "restart");
}
