// Seeds and reads the JSON state file of a lab Windows host, the one lab/windows/WindowsShim.psm1 serves
// the Windows cmdlets from. docs/windows.md documents the format; these types are its schema.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import forge from "node-forge";
import { cloudExtensionSettings, CloudName, extensionHosts } from "../../config/clouds";
import { authenticationTypes } from "../../doctor/facts";

/** Path of the shim module a lab host imports before it runs a script. */
export const windowsShimModulePath = path.join(__dirname, "WindowsShim.psm1");

export const azureMfaKey = "HKLM:\\SOFTWARE\\Microsoft\\AzureMfa";
export const authSrvParametersKey = "HKLM:\\SYSTEM\\CurrentControlSet\\Services\\AuthSrv\\Parameters";
export const networkServiceSid = "S-1-5-20";
/** npsmfa's record of what IAS loaded at its last healthy restart (remote/scripts/IasLoaded.ps1). */
export const iasLoadedKey = "HKLM:\\SOFTWARE\\npsmfa";

/** REG_SZ as a string, REG_DWORD as a number, REG_MULTI_SZ as a list of strings. */
export type RegistryValue = string | number | string[];

/** FileSystemRights masks as Windows keeps them in an ACE (FileSystemRights.Read, .FullControl, GENERIC_READ). */
export const fileRights = { read: 131209, fullControl: 2032127, genericRead: -2147483648 } as const;

// NETWORK SERVICE and the groups its token always holds (Everyone, Authenticated Users, Users, SERVICE),
// as remote/scripts/HostFacts.ps1 names them: an ACE for any of them applies to IAS (Learn:
// windows/win32/services/networkservice-account; understand-security-identifiers).
const networkServiceTokenSids = ["S-1-5-20", "S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-5-6"];
const fileRightNames: Record<string, number> = {
  Read: fileRights.read,
  ReadAndExecute: 1179817,
  Modify: 1245631,
  FullControl: fileRights.fullControl,
};
const genericAll = 0x10000000;

/** An ACE's rights as specific file rights: generic bits mapped as Windows maps them for files. */
function fileRightsMask(rights: number | string): number {
  let mask = typeof rights === "number" ? rights : (fileRightNames[rights] ?? 0);
  if (mask & fileRights.genericRead) mask |= fileRights.read;
  if (mask & genericAll) mask |= fileRights.fullControl;
  return mask;
}

/** Whether IAS, as NETWORK SERVICE, may read the key: an allow with every Read bit, and no deny of one. */
export function networkServiceCanReadKey(certificate: HostCertificate): boolean {
  let allowed = 0;
  for (const rule of certificate.keyAcl) {
    if (!networkServiceTokenSids.includes(rule.sid)) continue;
    const mask = fileRightsMask(rule.rights);
    if (rule.type === "Deny" && (mask & fileRights.read) !== 0) return false;
    if (rule.type === "Allow") allowed |= mask;
  }
  return (allowed & fileRights.read) === fileRights.read;
}

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
  /** A proxy's forwarding: read at start and again on ISdoServiceControl::ResetService (at `resetAt`). */
  remoteRadiusServerGroups?: RemoteRadiusServerGroup[];
  resetAt?: string;
  /**
   * The NPS extension IAS loaded (the DLLs' file version); null when its DLL was not registered in
   * AuthSrv\Parameters. Absent in a record written before the lab kept it: the host's current version applies.
   */
  extensionVersion?: string | null;
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
  /** Seconds without response before a request is dropped; blackout: seconds a server stays unavailable (default 30). */
  servers: { address: string; timeout: number; blackout?: number }[];
}

/**
 * An NPS network policy as SDO shows it: its name (its profile has the same name), processing order, state,
 * and the authentication types its profile allows (AUTHENTICATION_TYPE values: 1 PAP, 4 MS-CHAPv2, 5 EAP).
 */
export interface NetworkPolicy {
  name: string;
  merit: number;
  enabled: boolean;
  authenticationTypes: number[];
}

/** Host names that resolve to a lab HTTPS server (origin), whose certificate the CA in caFile issued. */
export interface WebRoute {
  origin: string;
  caFile: string;
  hosts: string[];
}

/** An MSI product as Windows Installer keeps it, and the AuthSrv\Parameters entries it registered. */
export interface InstalledProduct {
  productName: string;
  version: string;
  authSrvParameters: Record<string, string[]>;
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
  /**
   * RRAS: the user authentication protocols it accepts (Get-VpnAuthProtocol UserAuthProtocolAccepted: PAP,
   * MsChapv2, EAP, ...); the lab's dial uses MS-CHAPv2 where it is accepted, else PAP. Absent: PAP.
   */
  userAuthProtocolAccepted?: string[];
  /** NPS: file version of the extension's DLLs (Get-Item ...\MfaNpsAuthzExt.dll).VersionInfo; absent: no files. */
  npsExtensionVersion?: string;
  /** Windows Installer's own record of each MSI product by product code: what `msiexec /x` undoes. */
  installedProducts?: Record<string, InstalledProduct>;
  /** Faults a test seeds: the extension's installer exits with this code and changes nothing. */
  faults?: { extensionInstallExitCode?: number };
  /** RADIUS proxy NPS: its remote RADIUS server groups (NPS's SDO API, New-Object -ComObject IAS.SdoMachine). */
  remoteRadiusServerGroups: RemoteRadiusServerGroup[];
  /** NPS: network policies (SDO); absent: none. */
  networkPolicies?: NetworkPolicy[];
  network: {
    /** "host:port" to whether a TCP connection succeeds (Test-NetConnection). */
    tcpReachable?: Record<string, boolean>;
    /** UDP ports IAS listens on while Running (default 1812, 1813). */
    iasUdpPorts?: number[];
    /** Where the cloud's login hosts resolve (the lab's Entra) and the CA file the host trusts for it. */
    loginRoute?: WebRoute;
    /** Where the lab's download host resolves: the same server, which serves the lab folder's installers. */
    downloadRoute?: WebRoute;
    /** File shares the host reaches (Copy-Item \\server\share\...): '\\server\share' to a lab folder. */
    shares?: Record<string, string>;
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
  return {
    ...cloudExtensionSettings(tenantId, cloud),
    ...(certificateThumbprint ? { CLIENT_CERT_IDENTIFIER: certificateThumbprint } : {}),
  };
}

export const extensionProductName = "NPS Extension For Azure MFA";
export const uninstallKey = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

/** An extension release as its installer declares it (a lab installer's manifest) and Windows Installer records it. */
export interface ExtensionProduct extends InstalledProduct {
  productCode: string;
  publisher: string;
}

/**
 * The lab's product code for an extension version, in braces as MSI writes it: a name-based GUID (RFC 9562
 * version 5) of the product and version, so each release has its own code and every lab derives the same one.
 * Microsoft's real codes are not published; nothing may rely on these values.
 */
export function extensionProductCode(version: string): string {
  const hash = crypto.createHash("sha1").update(`${extensionProductName} ${version}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex").toUpperCase();
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}}`;
}

export function extensionProduct(version: string): ExtensionProduct {
  return {
    productName: extensionProductName,
    version,
    productCode: extensionProductCode(version),
    publisher: "Microsoft Corporation",
    authSrvParameters: extensionDllRegistration() as Record<string, string[]>,
  };
}

/**
 * Puts extension `version` on an NPS host as its installer leaves it (the shim's Invoke-ShimLabInstaller):
 * files, AuthSrv registration, uninstall entry, Windows Installer's record; any other version goes first.
 * null: no extension at all, its settings gone too. IAS keeps what it loaded: startIas to load it.
 */
export function installExtension(host: HostState, version: string | null): void {
  const products = host.installedProducts ?? {};
  for (const [code, product] of Object.entries(products)) {
    if (product.productName !== extensionProductName) continue;
    delete products[code];
    delete host.registry[`${uninstallKey}\\${code}`];
  }
  const authSrv = host.registry[authSrvParametersKey] ?? {};
  for (const name of Object.keys(extensionDllRegistration())) delete authSrv[name];
  delete host.npsExtensionVersion;
  if (version === null) {
    delete host.registry[azureMfaKey];
    return;
  }
  const product = extensionProduct(version);
  host.installedProducts = {
    ...products,
    [product.productCode]: {
      productName: product.productName,
      version,
      authSrvParameters: product.authSrvParameters,
    },
  };
  host.registry[authSrvParametersKey] = { ...authSrv, ...product.authSrvParameters };
  host.npsExtensionVersion = version;
  // The entry Windows Installer writes for an MSI product (Learn: windows/win32/msi/uninstall-registry-key).
  host.registry[uninstallKey] ??= {};
  host.registry[`${uninstallKey}\\${product.productCode}`] = {
    DisplayName: product.productName,
    DisplayVersion: version,
    Publisher: product.publisher,
    WindowsInstaller: 1,
    UninstallString: `MsiExec.exe /X${product.productCode}`,
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
    remoteRadiusServerGroups: structuredClone(host.remoteRadiusServerGroups),
    extensionVersion: registeredExtensionVersion(host),
  };
}

/**
 * The extension version IAS loads at its next start: the DLLs' version where AuthSrv\Parameters registers
 * MfaNpsAuthzExt.dll (NPS loads the DLLs listed there), else null. The shim's New-ShimIasLoadedConfiguration
 * applies the same rule.
 */
export function registeredExtensionVersion(host: HostState): string | null {
  const dlls = host.registry[authSrvParametersKey]?.AuthorizationDLLs;
  const registered = Array.isArray(dlls) && dlls.some((dll) => /\\MfaNpsAuthzExt\.dll$/i.test(dll));
  return registered && host.npsExtensionVersion ? host.npsExtensionVersion : null;
}

function emptyHost(hostname: string): HostState {
  return {
    hostname,
    // Every Windows has the uninstall key, an empty one here.
    registry: { "HKLM:\\SOFTWARE\\Microsoft": {}, [uninstallKey]: {} },
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
export function articleNpsHost(hostname: string, tenantId: string, cloud: CloudName = "public"): HostState {
  const host = emptyHost(hostname);
  host.network.tcpReachable = cloudEndpointsReachable(cloud);
  installExtension(host, currentExtensionVersion);
  host.registry[azureMfaKey] = { TENANT_ID: tenantId };
  // PAP: what the lab's VPN dials send (a User-Password attribute), and the one protocol that carries every
  // MFA method (Learn: howto-mfa-nps-extension, "Authentication methods"; doctor/diagnose.ts keeps the table).
  host.networkPolicies = [
    { name: "Always On VPN", merit: 1, enabled: true, authenticationTypes: [authenticationTypes.pap] },
  ];
  host.services.IAS = iasService();
  startIas(host);
  return host;
}

/**
 * The lab's article NPS server: as above, plus the certificate the extension's setup script made, never
 * registered on the Client service principal. The extension can then sign a token request, and Entra
 * answers it with the article's AADSTS7000112 (the Client is disabled) rather than there being nothing to send.
 */
export function articleLabNpsHost(
  hostname: string,
  tenantId: string,
  cloud: CloudName = "public",
): HostState {
  const host = articleNpsHost(hostname, tenantId, cloud);
  host.certificates.push(selfSignedNpsCertificate(tenantId));
  startIas(host);
  return host;
}

/** The hosts the extension reaches over HTTPS in a cloud, reachable (Test-NetConnection -Port 443). */
export function cloudEndpointsReachable(cloud: CloudName): Record<string, boolean> {
  return Object.fromEntries(extensionHosts(cloud).map((name) => [`${name}:443`, true]));
}

/** RRAS's RADIUS server timeout when none is given (Add-RemoteAccessRadius -Timeout): too short for MFA. */
export const rrasDefaultTimeoutSeconds = 5;

/** A VPN (RRAS) server as the article finds it: RADIUS authentication to each NPS with RRAS's default. */
export function articleVpnHost(
  hostname: string,
  npsServers: string[],
  timeoutSeconds = rrasDefaultTimeoutSeconds,
): HostState {
  const host = emptyHost(hostname);
  host.services.RemoteAccess = { displayName: "Routing and Remote Access", status: "Running", history: [] };
  // PAP, so that the lab's dials and radclient speak the same protocol; seeds that need MS-CHAPv2 set it.
  host.userAuthProtocolAccepted = ["PAP"];
  host.remoteAccessRadius = npsServers.map((serverName) => ({
    serverName,
    purpose: "Authentication",
    timeout: timeoutSeconds,
    score: 30,
    port: 1812,
  }));
  return host;
}

/**
 * A RADIUS proxy: NPS without the extension (Learn, howto-mfa-nps-extension: an NPS server with the extension
 * installed cannot forward RADIUS requests to another server), forwarding to
 * the extension NPS servers through one remote RADIUS server group, each server with the timeout given.
 */
export function radiusProxyHost(hostname: string, npsServers: string[], timeoutSeconds: number): HostState {
  const host = emptyHost(hostname);
  host.services.IAS = iasService();
  host.remoteRadiusServerGroups = [
    { name: "MFA NPS", servers: npsServers.map((address) => ({ address, timeout: timeoutSeconds })) },
  ];
  startIas(host);
  return host;
}

/** A healthy NPS server: complete registry (IP_WHITELIST empty) pinned to a valid certificate NETWORK SERVICE can read. */
export function healthyNpsHost(hostname: string, tenantId: string, cloud: CloudName = "public"): HostState {
  const host = articleLabNpsHost(hostname, tenantId, cloud);
  const certificate = host.certificates[0];
  // IP_WHITELIST empty, as Learn advises when no client skips MFA (the extension logs an error without it);
  // OVERRIDE_NUMBER_MATCHING_WITH_OTP FALSE, as Learn's VPN page asks for VPN users (and npsmfa declares).
  host.registry[azureMfaKey] = {
    ...completeExtensionSettings(tenantId, cloud, certificate.thumbprint),
    IP_WHITELIST: "",
    OVERRIDE_NUMBER_MATCHING_WITH_OTP: "FALSE",
  };
  startIas(host);
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

/**
 * The environment a lab host's PowerShell runs with: its state file and name for the shim, and its own
 * %ProgramData%, a real folder beside the state file, so the real file cmdlets (New-Item, Copy-Item,
 * Get-FileHash, Remove-Item) work there unchanged.
 */
export function hostEnvironment(hostName: string, stateFile: string): Record<string, string> {
  const programData = `${stateFile.replace(/\.json$/i, "")}.ProgramData`;
  fs.mkdirSync(programData, { recursive: true });
  return { NPSMFA_HOST_STATE: stateFile, NPSMFA_HOST_NAME: hostName, ProgramData: programData };
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
