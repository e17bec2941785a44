// The doctor's checks: ids (stable, used in --json and by `npm run lab -- --seed <id>`), the order in which
// they explain a failing sign-in, and how each is fixed. A check early in the list makes those after it
// moot or misleading (a disabled Client service principal fails every token request whatever the
// certificate), so the first failing finding in this order is the answer to "why does sign-in fail".

import { mfaClientAppId, mfaConnectorAppId } from "../config/clouds";

export const checkIds = [
  "client-sp-disabled",
  "connector-sp-disabled",
  "host-unreachable",
  "ias-not-running",
  "extension-dlls",
  "extension-version",
  "extension-settings",
  "certificate-missing",
  "certificate-expired",
  "key-acl-missing",
  "certificate-not-registered",
  "ias-restart-pending",
  "tls12-disabled",
  "endpoint-unreachable",
  "radius-timeout-short",
  "proxy-timeout-short",
  "number-matching-totp",
  "user-not-found",
  "user-disabled",
  "user-not-synced",
  "user-no-mfa-method",
  "user-method-protocol",
  "user-methods-retiring",
  "recent-token-errors",
  "certificate-renewal-due",
  "credential-ledger",
] as const;
export type CheckId = (typeof checkIds)[number];

export type FindingStatus = "pass" | "warn" | "fail";

export interface Finding {
  id: CheckId;
  status: FindingStatus;
  /** Where: "tenant", a server's host name, or "vpn01 -> nps01". */
  where: string;
  evidence: string;
  fix: string;
}

/** `pulumi up --refresh` first where this project's stack repairs the cause, then the step by hand. */
const stackRepairs = "`pulumi up --refresh` (the npsmfa stack repairs this)";

/** The Graph PowerShell that enables a first-party service principal, with its appId: nothing to fill in. */
const enableServicePrincipal = (appId: string) =>
  `${stackRepairs}; by hand: Update-MgServicePrincipal -ServicePrincipalId ` +
  `(Get-MgServicePrincipal -Filter "appId eq '${appId}'").Id -AccountEnabled:$true ` +
  `(New-MgServicePrincipal -AppId ${appId} if it is missing)`;

export const fixes: Record<CheckId, (where: string) => string> = {
  "client-sp-disabled": () => enableServicePrincipal(mfaClientAppId),
  "connector-sp-disabled": () => enableServicePrincipal(mfaConnectorAppId),
  "host-unreachable": (where) =>
    `reach ${where} over WinRM (HTTPS 5986, or HTTP 5985 with NTLM), then run the doctor again`,
  "ias-not-running": (where) => `on ${where}: Start-Service IAS, then read the System log for why it stopped`,
  "extension-dlls": (where) =>
    `on ${where}: reinstall the NPS Extension for Microsoft Entra multifactor authentication ` +
    "(its installer registers MfaNpsAuthzExt.dll and MfaNpsAuthnExt.dll with NPS), then restart IAS",
  "extension-version": (where) =>
    "declare extension.installer (source and sha256) and extension.minimumVersion, then `pulumi up --refresh` " +
    `upgrades one server at a time; by hand: on ${where}, uninstall the extension, run the current ` +
    "NpsExtnForAzureMfaInstaller.exe (aka.ms/npsmfa), then Restart-Service IAS",
  "extension-settings": (where) =>
    `${stackRepairs}; by hand: run AzureMfaNpsExtnConfigSetup.ps1 on ${where}, then Restart-Service IAS`,
  "certificate-missing": (where) =>
    `${stackRepairs}; by hand: run AzureMfaNpsExtnConfigSetup.ps1 on ${where}, then Restart-Service IAS`,
  "certificate-expired": (where) =>
    `${stackRepairs}; by hand: run AzureMfaNpsExtnConfigSetup.ps1 on ${where} (a new certificate, ` +
    "registered on the Client service principal), then Restart-Service IAS",
  "key-acl-missing": (where) =>
    `${stackRepairs}; by hand: on ${where}, certlm.msc > Personal > the NPS certificate > All Tasks > ` +
    "Manage Private Keys > add NETWORK SERVICE with Read, then Restart-Service IAS",
  "certificate-not-registered": (where) =>
    `${stackRepairs}; by hand: run AzureMfaNpsExtnConfigSetup.ps1 on ${where}, which adds the ` +
    "certificate to the Azure Multi-Factor Auth Client service principal's keyCredentials",
  "ias-restart-pending": (where) =>
    `${stackRepairs} restarts IAS on one server at a time; by hand: Restart-Service IAS on ${where} ` +
    "(never on every NPS server at once: a restart drops the sign-ins in flight)",
  "tls12-disabled": (where) =>
    `on ${where}: enable TLS 1.2 (SCHANNEL\\Protocols\\TLS 1.2\\Client Enabled=1, DisabledByDefault=0) ` +
    "and set SchUseStrongCrypto=1 under .NETFramework\\v4.0.30319 (and Wow6432Node), then reboot",
  "endpoint-unreachable": (where) =>
    `from ${where}: allow outbound HTTPS (443) to the host named, through the firewall and the WinHTTP ` +
    "proxy IAS uses (netsh winhttp show proxy)",
  "radius-timeout-short": (where) => {
    const [vpn, nps] = where.split(" -> ");
    return (
      `${stackRepairs}; by hand: on ${vpn}, Set-RemoteAccessRadius -ServerName ${nps ?? vpn} ` +
      "-Purpose Authentication -Timeout 60"
    );
  },
  "proxy-timeout-short": (where) =>
    `${stackRepairs}; by hand: on ${where.split(" -> ")[0]}, NPS console > RADIUS Clients and Servers > Remote ` +
    "RADIUS Server Groups > the group > the server > Load Balancing: at least 60 seconds without response " +
    "before the request is considered dropped",
  "number-matching-totp": (where) =>
    `${stackRepairs} writes OVERRIDE_NUMBER_MATCHING_WITH_OTP = FALSE (Approve/Deny) and restarts IAS; by hand: ` +
    `on ${where}, New-ItemProperty -Path HKLM:\\SOFTWARE\\Microsoft\\AzureMfa -Name OVERRIDE_NUMBER_MATCHING_WITH_OTP ` +
    "-PropertyType String -Value FALSE -Force, then Restart-Service IAS; or let the VPN's network policy use PAP " +
    "(and declare radiusAuthentication: pap) where the VPN client can send a code",
  "user-not-found": (where) =>
    `check the UPN, then sync ${where} from AD DS with Microsoft Entra Connect (or create the user); ` +
    "with a 403 in the evidence, grant the doctor's application User.Read.All",
  "user-disabled": (where) =>
    `enable ${where}: in AD DS for a synced user (then wait for the next sync), else ` +
    `Update-MgUser -UserId ${where} -AccountEnabled:$true`,
  "user-not-synced": (where) =>
    `sync ${where} from AD DS with Microsoft Entra Connect, with the same UPN on-premises and in Entra; or ` +
    "set LDAP_ALTERNATE_LOGINID_ATTRIBUTE (and LDAP_LOOKUP_FORESTS) on every NPS server for an alternate login ID",
  "user-no-mfa-method": (where) =>
    `${where} registers Microsoft Authenticator or a phone at https://aka.ms/mysecurityinfo (or an ` +
    "administrator adds a phone: New-MgUserAuthenticationPhoneMethod); with a 403 in the evidence, grant " +
    "the doctor's application UserAuthenticationMethod.Read.All",
  "user-method-protocol": (where) =>
    `${where} registers Microsoft Authenticator (notification) or a phone for calls, which MS-CHAPv2 and EAP ` +
    "carry; or the VPN network policy allows PAP, which carries every method (codes too)",
  "user-methods-retiring": (where) =>
    `${where} registers Microsoft Authenticator (notification) at https://aka.ms/mysecurityinfo before ` +
    "Microsoft stops delivering SMS and voice calls itself",
  "recent-token-errors": () => "fix the check named in the evidence; the errors stop with it",
  "certificate-renewal-due": () => `${stackRepairs} renews it before it expires`,
  "credential-ledger": () =>
    "nothing urgent: remove an expired or orphaned npsmfa key from the Client service principal when no " +
    "server uses it; never remove a foreign key (AD FS and other tools register theirs there too)",
};

export const checkOrder = (id: CheckId): number => checkIds.indexOf(id);

/** A finding, with the check's fix unless it passes. */
export function finding(id: CheckId, status: FindingStatus, where: string, evidence: string): Finding {
  return { id, status, where, evidence, fix: status === "pass" ? "" : fixes[id](where) };
}
