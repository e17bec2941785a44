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

export interface KeyAccessRule {
  sid: string;
  rights: string;
  type: "Allow" | "Deny";
}

export interface HostCertificate {
  thumbprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  /** PKCS#12 with the private key, no password. */
  pfxBase64: string;
  /** File name of the key under %ProgramData%\Microsoft\Crypto\RSA\MachineKeys. */
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
  /** IAS only: what the service read when it last started; it keeps using it until the next start. */
  loaded?: IasLoadedConfiguration;
}

/**
 * What IAS and the NPS extension load at start (Microsoft Learn, howto-mfa-nps-extension: registry and
 * certificate changes apply after the NPS service restarts): the AzureMfa values and the certificates of
 * LocalMachine\My as they were then. The lab's extension picks its certificate from these.
 */
export interface IasLoadedConfiguration {
  startedAt: string;
  settings: Record<string, RegistryValue>;
  certificates: HostCertificate[];
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
  /** NPS: remote RADIUS server groups this NPS forwards to (netsh nps show remoteserver). */
  remoteRadiusServerGroups: RemoteRadiusServerGroup[];
  network: {
    /** "host:port" to whether a TCP connection succeeds (Test-NetConnection). */
    tcpReachable?: Record<string, boolean>;
    /** UDP ports IAS listens on while Running (default 1812, 1813). */
    iasUdpPorts?: number[];
    /** Where the cloud's login hosts resolve (the lab's Entra) and the CA file the host trusts for it. */
    loginRoute?: { origin: string; caFile: string; hosts: string[] };
  };
}

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

/** IAS started now with the host's current settings and certificates (what the shim records at a start). */
export function startIas(host: HostState): void {
  const ias = host.services.IAS;
  if (!ias) throw new Error(`lab: ${host.hostname} has no IAS service to start`);
  ias.status = "Running";
  ias.loaded = {
    startedAt: new Date().toISOString(),
    settings: structuredClone(host.registry[azureMfaKey] ?? {}),
    certificates: structuredClone(host.certificates),
  };
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
 * no NPS certificate, IAS running. No event is seeded: the lab's RADIUS side logs what happens.
 */
export function articleNpsHost(hostname: string, tenantId: string): HostState {
  const host = emptyHost(hostname);
  host.registry[authSrvParametersKey] = extensionDllRegistration();
  host.registry[azureMfaKey] = { TENANT_ID: tenantId };
  host.services.IAS = iasService();
  startIas(host);
  return host;
}

/**
 * The lab's article NPS server: as above, plus the certificate the extension's setup script made, never
 * registered on the Client service principal. The extension can then sign a token request, and Entra
 * answers it with the article's AADSTS7000112 (the Client is disabled) rather than there being nothing to send.
 */
export function articleLabNpsHost(hostname: string, tenantId: string): HostState {
  const host = articleNpsHost(hostname, tenantId);
  host.certificates.push(selfSignedNpsCertificate(tenantId));
  startIas(host);
  return host;
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

/** A healthy NPS server: complete registry pinned to a valid certificate NETWORK SERVICE can read. */
export function healthyNpsHost(hostname: string, tenantId: string, cloud: CloudName = "public"): HostState {
  const host = articleLabNpsHost(hostname, tenantId);
  const certificate = host.certificates[0];
  host.registry[azureMfaKey] = completeExtensionSettings(tenantId, cloud, certificate.thumbprint);
  startIas(host);
  return host;
}

/** A real self-signed NPS certificate (CN=<tenant>, OU=Microsoft NPS Extension) as the shim stores it. */
export function selfSignedNpsCertificate(
  tenantId: string,
  options: { notBefore?: Date; notAfter?: Date; networkServiceCanRead?: boolean } = {},
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
    { sid: "S-1-5-18", rights: "FullControl", type: "Allow" },
    { sid: "S-1-5-32-544", rights: "FullControl", type: "Allow" },
  ];
  if (options.networkServiceCanRead ?? true)
    keyAcl.push({ sid: networkServiceSid, rights: "Read", type: "Allow" });
  return {
    thumbprint: crypto.createHash("sha1").update(der).digest("hex").toUpperCase(),
    subject: `CN=${tenantId}, OU=Microsoft NPS Extension`,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    pfxBase64: Buffer.from(forge.asn1.toDer(pfx).getBytes(), "binary").toString("base64"),
    keyContainer: `${crypto.randomBytes(16).toString("hex")}_${crypto.randomUUID()}`,
    keyAcl,
  };
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
