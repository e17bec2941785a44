// Pure: the findings of every check from the facts read, ordered so the first failing one explains why
// sign-in fails. Sources for each rule are cited at the rule; docs/doctor.md lists them together.
import { cloudExtensionSettings, extensionHosts } from "../config/clouds";
import { clientCertIdentifierMinimumVersion, compareVersions } from "../config/extensionVersions";
import { thumbprintOfKey } from "../providers/entra/keyCredentials";
import { CheckId, checkOrder, Finding, FindingStatus, finding } from "./checks";
import { methodRetirementFinding } from "./methodRetirement";
import { challengeRequestedText, numberMatchingFinding } from "./numberMatching";
import {
  authenticationTypeNames,
  authenticationTypes,
  methodsWithoutPap,
  methodsWithPap,
  type EstateFacts,
  type HostCertificateFacts,
  type NpsHostFacts,
  type ServicePrincipalFacts,
  type TenantFacts,
} from "./facts";

/** Microsoft documents the RADIUS timeout for MFA as 30-60 s at least; we require 60 (config/schema.ts). */
export const minimumRadiusTimeoutSeconds = 60;

const day = 86_400_000;

function servicePrincipalFinding(id: CheckId, sp: ServicePrincipalFacts): Finding {
  if (!sp.found)
    return finding(id, "fail", "tenant", `no service principal for ${sp.displayName} (appId ${sp.appId})`);
  if (!sp.accountEnabled)
    return finding(id, "fail", "tenant", `${sp.displayName} (appId ${sp.appId}) has accountEnabled = false`);
  return finding(id, "pass", "tenant", `${sp.displayName} exists and is enabled`);
}

/**
 * The certificate the extension signs with: the one CLIENT_CERT_IDENTIFIER names when set; otherwise, as
 * older extensions do, a certificate with the tenant's subject (the valid one lasting longest).
 */
export function certificateInUse(host: NpsHostFacts, now: Date): HostCertificateFacts | undefined {
  const pinned = host.extensionSettings?.CLIENT_CERT_IDENTIFIER?.toUpperCase();
  if (pinned) return host.certificates.find((certificate) => certificate.thumbprint.toUpperCase() === pinned);
  const withKey = host.certificates.filter((certificate) => certificate.hasPrivateKey);
  const valid = withKey.filter((certificate) => Date.parse(certificate.notAfter) > now.getTime());
  const pool = valid.length > 0 ? valid : withKey;
  return [...pool].sort((a, b) => Date.parse(b.notAfter) - Date.parse(a.notAfter))[0];
}

function extensionSettingsFinding(host: NpsHostFacts, tenant: TenantFacts): Finding {
  if (host.extensionSettings === null)
    return finding(
      "extension-settings",
      "fail",
      host.hostname,
      "HKLM\\SOFTWARE\\Microsoft\\AzureMfa does not exist",
    );
  const live = host.extensionSettings;
  const wrong = Object.entries(cloudExtensionSettings(tenant.tenantId, tenant.cloud))
    .filter(([name, expected]) => (live[name] ?? "").toLowerCase() !== expected.toLowerCase())
    .map(
      ([name, expected]) =>
        `${name} is ${live[name] === undefined ? "missing" : JSON.stringify(live[name])}, expected ${JSON.stringify(expected)}`,
    );
  if (wrong.length > 0) return finding("extension-settings", "fail", host.hostname, wrong.join("; "));
  return finding("extension-settings", "pass", host.hostname, `complete for the ${tenant.cloud} cloud`);
}

function extensionDllsFinding(host: NpsHostFacts): Finding {
  const missing = [
    ...(host.authorizationDlls.some((dll) => /MfaNpsAuthzExt\.dll$/i.test(dll))
      ? []
      : ["MfaNpsAuthzExt.dll in AuthorizationDLLs"]),
    ...(host.extensionDlls.some((dll) => /MfaNpsAuthnExt\.dll$/i.test(dll))
      ? []
      : ["MfaNpsAuthnExt.dll in ExtensionDLLs"]),
  ];
  if (missing.length > 0)
    return finding(
      "extension-dlls",
      "fail",
      host.hostname,
      `AuthSrv\\Parameters lacks ${missing.join(" and ")}`,
    );
  return finding("extension-dlls", "pass", host.hostname, "both extension DLLs are registered with NPS");
}

/** The version the extension must have: the stack's declared minimum, and 1.2.2893.1 when a thumbprint is pinned. */
function extensionVersionFinding(host: NpsHostFacts, declaredMinimum?: string): Finding | undefined {
  const pinned = Boolean(host.extensionSettings?.CLIENT_CERT_IDENTIFIER);
  const needs = [
    ...(declaredMinimum ? [{ version: declaredMinimum, why: "the stack's extension.minimumVersion" }] : []),
    ...(pinned ? [{ version: clientCertIdentifierMinimumVersion, why: "CLIENT_CERT_IDENTIFIER" }] : []),
  ];
  if (host.extensionVersion === null) {
    return needs.length > 0
      ? finding(
          "extension-version",
          "warn",
          host.hostname,
          `the extension's version could not be read; ${needs.map((need) => `${need.why} needs ${need.version}`).join(", ")}`,
        )
      : undefined;
  }
  const version = host.extensionVersion;
  const short = needs.filter((need) => compareVersions(version, need.version) < 0);
  if (short.length > 0) {
    return finding(
      "extension-version",
      "fail",
      host.hostname,
      short
        .map((need) =>
          need.why === "CLIENT_CERT_IDENTIFIER"
            ? `version ${version} ignores CLIENT_CERT_IDENTIFIER, which needs ${need.version} or later`
            : `version ${version} is below ${need.why} ${need.version}`,
        )
        .join("; "),
    );
  }
  return finding("extension-version", "pass", host.hostname, `version ${version}`);
}

function describeCertificate(certificate: HostCertificateFacts): string {
  return `${certificate.thumbprint} (valid ${certificate.notBefore.slice(0, 10)} to ${certificate.notAfter.slice(0, 10)})`;
}

function certificateFindings(host: NpsHostFacts, facts: EstateFacts, now: Date): Finding[] {
  const where = host.hostname;
  const pinned = host.extensionSettings?.CLIENT_CERT_IDENTIFIER;
  const inUse = certificateInUse(host, now);
  if (!inUse) {
    const evidence = pinned
      ? `CLIENT_CERT_IDENTIFIER names ${pinned}, which is not in Cert:\\LocalMachine\\My`
      : `no certificate "CN=${facts.tenant.tenantId}, OU=Microsoft NPS Extension" with a private key in Cert:\\LocalMachine\\My`;
    return [
      finding("certificate-missing", "fail", where, evidence),
      finding(
        "certificate-not-registered",
        "fail",
        where,
        "no certificate on the host, so none of its keys can be on the Client service principal",
      ),
    ];
  }
  const findings = [finding("certificate-missing", "pass", where, `in use: ${describeCertificate(inUse)}`)];
  const notAfter = Date.parse(inUse.notAfter);
  // An expired certificate fails outright: Entra refuses an assertion signed with it (AADSTS700027).
  if (notAfter <= now.getTime())
    findings.push(
      finding("certificate-expired", "fail", where, `${inUse.thumbprint} expired on ${inUse.notAfter}`),
    );
  else findings.push(finding("certificate-expired", "pass", where, `valid until ${inUse.notAfter}`));
  const renewalDays = facts.renewalDays[host.hostname] ?? 60;
  if (notAfter > now.getTime() && notAfter - now.getTime() <= renewalDays * day) {
    const days = Math.floor((notAfter - now.getTime()) / day);
    findings.push(
      finding(
        "certificate-renewal-due",
        "warn",
        where,
        `${inUse.thumbprint} expires in ${days} days (renewal window ${renewalDays} days)`,
      ),
    );
  } else if (notAfter > now.getTime()) {
    findings.push(finding("certificate-renewal-due", "pass", where, `more than ${renewalDays} days left`));
  }
  findings.push(
    inUse.hasPrivateKey && inUse.networkServiceCanRead
      ? finding("key-acl-missing", "pass", where, "NETWORK SERVICE can read the private key")
      : finding(
          "key-acl-missing",
          "fail",
          where,
          inUse.hasPrivateKey
            ? `NETWORK SERVICE (S-1-5-20), the account IAS runs as, cannot read the private key of ${inUse.thumbprint}`
            : `${inUse.thumbprint} has no private key`,
        ),
  );
  const key = facts.tenant.client.keyCredentials.find(
    (entry) => thumbprintOfKey(entry) === inUse.thumbprint.toUpperCase(),
  );
  if (!key) {
    findings.push(
      finding(
        "certificate-not-registered",
        "fail",
        where,
        `no key with thumbprint ${inUse.thumbprint} on the Azure Multi-Factor Auth Client service principal`,
      ),
    );
  } else if (Date.parse(key.endDateTime) <= now.getTime()) {
    findings.push(
      finding(
        "certificate-expired",
        "fail",
        where,
        `the Client service principal's key for ${inUse.thumbprint} ended on ${key.endDateTime}`,
      ),
    );
  } else {
    findings.push(
      finding(
        "certificate-not-registered",
        "pass",
        where,
        `registered on the Client service principal (keyId ${key.keyId})`,
      ),
    );
  }
  return findings;
}

/**
 * The extension reads its settings and certificate only when IAS starts (Learn: howto-mfa-nps-extension,
 * "restart the NPS service"): after a rotation without a restart IAS signs with the old certificate, whose
 * key may be gone from the Client service principal (AADSTS700027) although the new one is registered.
 */
function iasRestartFinding(host: NpsHostFacts): Finding | undefined {
  if (host.iasRestartPending === null) return undefined;
  return host.iasRestartPending
    ? finding(
        "ias-restart-pending",
        "fail",
        host.hostname,
        "the AzureMfa values or the NPS certificate changed since IAS last started (npsmfa's record under " +
          "HKLM\\SOFTWARE\\npsmfa): IAS still runs what it loaded then",
      )
    : finding(
        "ias-restart-pending",
        "pass",
        host.hostname,
        "IAS runs the settings and certificate on the server",
      );
}

function tls12Finding(host: NpsHostFacts): Finding {
  // Learn, "Enable TLS 1.2 on servers": SCHANNEL's TLS 1.2 Client key and .NET's SchUseStrongCrypto.
  const { tls12 } = host;
  const problems = [
    ...(tls12.clientEnabled === 0 ? ["SCHANNEL TLS 1.2 Client Enabled = 0"] : []),
    ...(tls12.clientDisabledByDefault === 1 ? ["SCHANNEL TLS 1.2 Client DisabledByDefault = 1"] : []),
    ...(tls12.strongCrypto === 0 ? [".NETFramework\\v4.0.30319 SchUseStrongCrypto = 0"] : []),
    ...(tls12.strongCryptoWow6432 === 0
      ? ["Wow6432Node .NETFramework\\v4.0.30319 SchUseStrongCrypto = 0"]
      : []),
  ];
  if (problems.length > 0) return finding("tls12-disabled", "fail", host.hostname, problems.join("; "));
  return finding(
    "tls12-disabled",
    "pass",
    host.hostname,
    "TLS 1.2 is not disabled for SCHANNEL clients or .NET",
  );
}

function endpointFindings(host: NpsHostFacts, tenant: TenantFacts): Finding[] {
  return extensionHosts(tenant.cloud).map((name) => {
    const probe = host.endpoints.find((entry) => entry.host.toLowerCase() === name.toLowerCase());
    if (!probe) return finding("endpoint-unreachable", "warn", host.hostname, `${name}:443 was not probed`);
    return probe.reachable
      ? finding("endpoint-unreachable", "pass", host.hostname, `${name}:443 reachable`)
      : finding("endpoint-unreachable", "fail", host.hostname, `${name}:443 not reachable`);
  });
}

/**
 * AADSTS codes the extension logs with ESTS_TOKEN_ERROR whose cause is one check whatever the host:
 * 7000112 the Azure Multi-Factor Auth Client application is disabled, 500014 the Connector resource is.
 * AADSTS700027 (the key IAS signs with is not on the Client) depends on the host: see checkForAadsts.
 */
const aadstsChecks: Record<string, CheckId> = {
  "7000112": "client-sp-disabled",
  "500014": "connector-sp-disabled",
};

/** The check that explains an AADSTS code (digits only) on this host; undefined for a code none explains. */
export function checkForAadsts(code: string, host: NpsHostFacts, now: Date): CheckId | undefined {
  if (code !== "700027") return aadstsChecks[code];
  // AADSTS700027: the key IAS signs with is not on the Client; which check explains it depends on the host.
  const inUse = certificateInUse(host, now);
  if (inUse !== undefined && Date.parse(inUse.notAfter) <= now.getTime()) return "certificate-expired";
  return host.iasRestartPending ? "ias-restart-pending" : "certificate-not-registered";
}

/** The AADSTS code in an AuthZ event's text, digits only, or "" without one. */
export function aadstsCode(message: string): string {
  return /AADSTS(\d+)/.exec(message)?.[1] ?? "";
}

/** An NPS Security event's reason code (6273/6274 "Reason Code: 21"). */
export function reasonCode(message: string): string | undefined {
  return /Reason Code:\s*(\d+)/i.exec(message)?.[1];
}

function accountName(message: string): string | undefined {
  return /Account Name:\s*([^\s]+)/i.exec(message)?.[1];
}

/**
 * AuthZ 3 and Security 6273/6274 since `since`, each AADSTS code mapped to the check that explains it; a
 * check in `failingNow` still fails, any other is marked as passing now (the errors predate a repair).
 */
export function tokenErrorFinding(
  host: NpsHostFacts,
  since: string,
  now: Date,
  failingNow: ReadonlySet<CheckId>,
): Finding {
  const authz = host.events.filter((event) => event.id === 3 && /AuthZ/i.test(event.logName));
  const security = host.events.filter(
    (event) => event.logName === "Security" && (event.id === 6273 || event.id === 6274),
  );
  if (authz.length === 0 && security.length === 0)
    return finding(
      "recent-token-errors",
      "pass",
      host.hostname,
      `no AuthZ event 3 and no 6273/6274 since ${since}`,
    );
  const codes = new Map<string, number>();
  for (const event of authz) {
    const code = aadstsCode(event.message) || "unknown";
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const parts = [...codes].map(([code, count]) => {
    const check = checkForAadsts(code, host, now);
    const explained = check ? ` -> ${check}${failingNow.has(check) ? "" : " (passes now)"}` : "";
    return `${count} x ESTS_TOKEN_ERROR${code === "unknown" ? "" : ` AADSTS${code}`}${explained}`;
  });
  // The TOTP prompts that MS-CHAPv2 and EAP cannot carry end as 6273s too: say what asked for them.
  const challenges = host.events.filter(
    (event) => event.logName === "AuthZOptCh" && event.message.includes(challengeRequestedText),
  ).length;
  if (challenges > 0)
    parts.push(
      `${challenges} x TOTP challenge -> number-matching-totp${failingNow.has("number-matching-totp") ? "" : " (passes now)"}`,
    );
  for (const id of [6273, 6274]) {
    const events = security.filter((event) => event.id === id);
    if (events.length === 0) continue;
    const reasons = [...new Set(events.map((event) => reasonCode(event.message)).filter(Boolean))];
    parts.push(
      `${events.length} x Security ${id}${reasons.length > 0 ? ` (reason ${reasons.join(", ")})` : ""}`,
    );
  }
  const users = [...new Set(host.events.map((event) => accountName(event.message)).filter(Boolean))];
  if (users.length > 0) parts.push(`users: ${users.join(", ")}`);
  return finding("recent-token-errors", "fail", host.hostname, `since ${since}: ${parts.join("; ")}`);
}

function radiusFindings(facts: EstateFacts): Finding[] {
  const findings: Finding[] = [];
  for (const vpn of facts.vpnHosts) {
    if (vpn.unreachable) continue;
    const declared = facts.declaredRadius[vpn.hostname] ?? [];
    const servers = vpn.radiusServers.filter((server) => server.purpose === "Authentication");
    for (const server of servers) {
      const where = `${vpn.hostname} -> ${server.serverName}`;
      findings.push(
        server.timeoutSeconds < minimumRadiusTimeoutSeconds
          ? finding(
              "radius-timeout-short",
              "fail",
              where,
              `RADIUS timeout ${server.timeoutSeconds} s: a person approving on a phone needs at least ${minimumRadiusTimeoutSeconds} s (RasClient event 20227 on the client)`,
            )
          : finding("radius-timeout-short", "pass", where, `RADIUS timeout ${server.timeoutSeconds} s`),
      );
    }
    for (const name of declared.filter(
      (nps) => !servers.some((server) => server.serverName.toLowerCase() === nps.toLowerCase()),
    ))
      findings.push(
        finding(
          "radius-timeout-short",
          "warn",
          `${vpn.hostname} -> ${name}`,
          "declared, but RRAS has no RADIUS authentication server of that name",
        ),
      );
  }
  return findings;
}

/** A RADIUS proxy waits for the extension NPS behind it as RRAS does: the same minimum holds per server. */
function proxyFindings(facts: EstateFacts): Finding[] {
  return facts.proxyHosts
    .filter((proxy) => !proxy.unreachable)
    .flatMap((proxy) =>
      proxy.remoteServers.map((server) => {
        const where = `${proxy.hostname} -> ${server.address} (group ${server.group})`;
        return server.timeoutSeconds < minimumRadiusTimeoutSeconds
          ? finding(
              "proxy-timeout-short",
              "fail",
              where,
              `forwards with a ${server.timeoutSeconds} s timeout: the proxy drops the request before a person approves on a phone (needs at least ${minimumRadiusTimeoutSeconds} s)`,
            )
          : finding("proxy-timeout-short", "pass", where, `forwarding timeout ${server.timeoutSeconds} s`);
      }),
    );
}

/** --user: exists, enabled, synced with a matching UPN, has a method the VPN's protocol can carry. */
function userFindings(facts: EstateFacts): Finding[] {
  const user = facts.tenant.user;
  if (!user) return [];
  const where = user.upn;
  if (user.readError)
    return [finding("user-not-found", "warn", where, `could not read the user: ${user.readError}`)];
  if (!user.found)
    return [
      finding(
        "user-not-found",
        "fail",
        where,
        `no user ${user.upn} in tenant ${facts.tenant.tenantId} (Graph: 404)`,
      ),
    ];
  const findings = [
    finding("user-not-found", "pass", where, `${user.userPrincipalName} exists`),
    user.accountEnabled
      ? finding("user-disabled", "pass", where, "accountEnabled = true")
      : finding("user-disabled", "fail", where, "accountEnabled = false: Entra refuses the MFA request"),
  ];
  // The extension looks the user up by the UPN NPS sends, which is the on-premises UPN (Learn: NPS extension
  // prerequisites, synced users; alternate login ID: LDAP_ALTERNATE_LOGINID_ATTRIBUTE).
  const alternateLoginId = facts.npsHosts.some((host) =>
    Boolean(host.extensionSettings?.LDAP_ALTERNATE_LOGINID_ATTRIBUTE),
  );
  if (user.onPremisesSyncEnabled !== true)
    findings.push(
      finding(
        "user-not-synced",
        "fail",
        where,
        "onPremisesSyncEnabled is not true: a cloud-only user, whom NPS cannot authenticate against AD DS",
      ),
    );
  else if (
    (user.onPremisesUserPrincipalName ?? "").toLowerCase() !== (user.userPrincipalName ?? "").toLowerCase() &&
    !alternateLoginId
  )
    findings.push(
      finding(
        "user-not-synced",
        "fail",
        where,
        `the on-premises UPN ${user.onPremisesUserPrincipalName ?? "(none)"} differs from ${user.userPrincipalName} and no NPS server sets LDAP_ALTERNATE_LOGINID_ATTRIBUTE`,
      ),
    );
  else
    findings.push(
      finding(
        "user-not-synced",
        "pass",
        where,
        "synced from on-premises with a matching UPN (or an alternate login ID)",
      ),
    );
  if (user.methodsError) {
    findings.push(
      finding("user-no-mfa-method", "warn", where, `could not read the methods: ${user.methodsError}`),
    );
    return findings;
  }
  const usable = user.methods.filter((method) => methodsWithPap.has(method));
  if (usable.length === 0) {
    findings.push(
      finding(
        "user-no-mfa-method",
        "fail",
        where,
        `no method the NPS extension can use is registered (found: ${user.methods.join(", ") || "none"})`,
      ),
    );
    return findings;
  }
  findings.push(finding("user-no-mfa-method", "pass", where, `registered: ${usable.join(", ")}`));
  const policies = facts.npsHosts.flatMap((host) =>
    (host.networkPolicies ?? [])
      .filter((policy) => policy.enabled)
      .map((policy) => ({ host: host.hostname, policy })),
  );
  if (policies.length === 0) return findings;
  const described = policies
    .map(
      ({ host, policy }) =>
        `${host} "${policy.name}": ${policy.authenticationTypes.map((type) => authenticationTypeNames[type] ?? `type ${type}`).join(", ") || "none"}`,
    )
    .join("; ");
  const withoutPap = policies.filter(
    ({ policy }) => !policy.authenticationTypes.includes(authenticationTypes.pap),
  );
  if (withoutPap.length > 0 && !usable.some((method) => methodsWithoutPap.has(method)))
    findings.push(
      finding(
        "user-method-protocol",
        "fail",
        where,
        `network policies without PAP (${described}) carry only a phone call or an app notification, and ${user.upn} has only ${usable.join(", ")}`,
      ),
    );
  else
    findings.push(
      finding("user-method-protocol", "pass", where, `a registered method works with ${described}`),
    );
  return findings;
}

/** Who owns a key on the Client service principal, by the credential ledger. */
export type KeyOwner = "server" | "foreign" | "orphaned" | "expired";

export interface LedgerEntry {
  keyId: string;
  thumbprint: string;
  owner: KeyOwner;
  /** The server that signs with it (owner "server"), else "". */
  host: string;
  expired: boolean;
  /** npsmfa registered it (its displayName starts with "npsmfa "). */
  ours: boolean;
}

/**
 * Every key on the Client service principal: used by a server, foreign (not npsmfa's), orphaned (npsmfa's,
 * no server uses it) or expired (npsmfa's, unused and past its end).
 */
export function ledgerEntries(facts: EstateFacts, now: Date): LedgerEntry[] {
  const inUse = new Map<string, string>();
  for (const host of facts.npsHosts) {
    const certificate = certificateInUse(host, now);
    if (certificate) inUse.set(certificate.thumbprint.toUpperCase(), host.hostname);
  }
  return facts.tenant.client.keyCredentials.map((key) => {
    const thumbprint = thumbprintOfKey(key) ?? "?";
    const expired = Date.parse(key.endDateTime) <= now.getTime();
    const ours = (key.displayName ?? "").toLowerCase().startsWith("npsmfa ");
    const host = inUse.get(thumbprint) ?? "";
    const owner: KeyOwner = host ? "server" : !ours ? "foreign" : expired ? "expired" : "orphaned";
    return { keyId: key.keyId, thumbprint, owner, host, expired, ours };
  });
}

/** Every key on the Client service principal: which server uses it, or expired / orphaned / foreign. */
export function credentialLedger(facts: EstateFacts, now: Date): Finding {
  const entries = ledgerEntries(facts, now);
  if (entries.length === 0)
    return finding("credential-ledger", "pass", "tenant", "no keys on the Client service principal");
  const role = (entry: LedgerEntry) =>
    entry.host
      ? `used by ${entry.host}`
      : entry.ours
        ? "orphaned (no server uses it)"
        : "foreign (not npsmfa's: keep it)";
  const lines = entries.map(
    (entry) => `${entry.thumbprint.slice(0, 8)}… ${role(entry)}${entry.expired ? ", expired" : ""}`,
  );
  const attention = entries.some((entry) => entry.ours && (!entry.host || entry.expired));
  return finding("credential-ledger", attention ? "warn" : "pass", "tenant", lines.join("; "));
}

export function diagnose(facts: EstateFacts): Finding[] {
  const now = new Date(facts.now);
  const findings: Finding[] = [
    servicePrincipalFinding("client-sp-disabled", facts.tenant.client),
    servicePrincipalFinding("connector-sp-disabled", facts.tenant.connector),
  ];
  for (const host of [...facts.npsHosts, ...facts.vpnHosts, ...facts.proxyHosts]) {
    if (host.unreachable) findings.push(finding("host-unreachable", "fail", host.hostname, host.unreachable));
  }
  for (const host of facts.npsHosts.filter((entry) => !entry.unreachable)) {
    const iasRestart = iasRestartFinding(host);
    findings.push(
      host.iasStatus === "Running"
        ? finding("ias-not-running", "pass", host.hostname, "IAS is Running")
        : finding("ias-not-running", "fail", host.hostname, `IAS is ${host.iasStatus ?? "not installed"}`),
      extensionDllsFinding(host),
      extensionSettingsFinding(host, facts.tenant),
      ...certificateFindings(host, facts, now),
      ...(iasRestart ? [iasRestart] : []),
      tls12Finding(host),
      ...endpointFindings(host, facts.tenant),
    );
    const version = extensionVersionFinding(host, facts.minimumExtensionVersion);
    if (version) findings.push(version);
    findings.push(numberMatchingFinding(host, facts));
  }
  const retiring = methodRetirementFinding(facts, now);
  findings.push(
    ...radiusFindings(facts),
    ...proxyFindings(facts),
    ...userFindings(facts),
    ...(retiring ? [retiring] : []),
    credentialLedger(facts, now),
  );
  // Last: token errors name the check that explains them, failing or not by now.
  for (const host of facts.npsHosts.filter((entry) => !entry.unreachable)) {
    const failingNow = new Set(
      findings
        .filter(
          (entry) => entry.status === "fail" && (entry.where === "tenant" || entry.where === host.hostname),
        )
        .map((entry) => entry.id),
    );
    findings.push(tokenErrorFinding(host, facts.since, now, failingNow));
  }
  const rank: Record<FindingStatus, number> = { fail: 0, warn: 1, pass: 2 };
  return findings
    .map((entry, index) => ({ entry, index }))
    .sort(
      (a, b) =>
        rank[a.entry.status] - rank[b.entry.status] ||
        checkOrder(a.entry.id) - checkOrder(b.entry.id) ||
        a.index - b.index,
    )
    .map(({ entry }) => entry);
}

/** The id of the first failing finding: the answer to "why does sign-in fail", or null when none fails. */
export function causeOf(findings: Finding[]): string | null {
  return findings.find((entry) => entry.status === "fail")?.id ?? null;
}
