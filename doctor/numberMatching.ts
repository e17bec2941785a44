// Number matching on a VPN stack (Learn: how-to-mfa-number-match "NPS extension"; howto-mfa-nps-extension-vpn;
// howto-mfa-nps-extension-errors "Challenge requested in Authentication Ext"): from extension 1.2.2216.1 a user
// with a TOTP method is asked for a code, which only PAP carries back. Under MS-CHAPv2 or EAP, what Windows'
// VPN client sends, that user's sign-in fails unless OVERRIDE_NUMBER_MATCHING_WITH_OTP is FALSE (Approve/Deny).
import { atLeast, totpPromptMinimumVersion } from "../config/extensionVersions";
import { Finding, finding } from "./checks";
import {
  authenticationTypeNames,
  authenticationTypes,
  EstateFacts,
  NpsHostFacts,
  totpMethodTypes,
} from "./facts";

/** The text of the AuthZOptCh event the extension logs when it asks for a TOTP. */
export const challengeRequestedText = "Challenge requested in Authentication Ext";

/** The enabled network policies that do not allow PAP, described; null when they could not be read. */
function policiesWithoutPap(host: NpsHostFacts): string[] | null {
  if (host.networkPolicies === null) return null;
  return host.networkPolicies
    .filter((policy) => policy.enabled && !policy.authenticationTypes.includes(authenticationTypes.pap))
    .map(
      (policy) =>
        `"${policy.name}" (${policy.authenticationTypes.map((type) => authenticationTypeNames[type] ?? `type ${type}`).join(", ") || "none"})`,
    );
}

export function numberMatchingFinding(host: NpsHostFacts, facts: EstateFacts): Finding {
  const where = host.hostname;
  const version = host.extensionVersion;
  if (!atLeast(version, totpPromptMinimumVersion))
    return finding(
      "number-matching-totp",
      "pass",
      where,
      version === null
        ? "the extension's version could not be read"
        : `version ${version} predates the TOTP prompt (${totpPromptMinimumVersion})`,
    );
  const override = (host.extensionSettings?.OVERRIDE_NUMBER_MATCHING_WITH_OTP ?? "").trim().toUpperCase();
  if (override === "FALSE")
    return finding(
      "number-matching-totp",
      "pass",
      where,
      "OVERRIDE_NUMBER_MATCHING_WITH_OTP = FALSE: users get Approve/Deny",
    );
  const withoutPap = policiesWithoutPap(host);
  if (withoutPap !== null && withoutPap.length === 0)
    return finding(
      "number-matching-totp",
      "pass",
      where,
      "every enabled network policy allows PAP, which carries a TOTP",
    );
  const challenges = host.events.filter(
    (event) => event.logName === "AuthZOptCh" && event.message.includes(challengeRequestedText),
  ).length;
  const evidence = [
    `version ${version}`,
    `OVERRIDE_NUMBER_MATCHING_WITH_OTP ${override ? `= ${override}` : "not set"}`,
    withoutPap === null
      ? "network policies unreadable (Windows' VPN client sends MS-CHAPv2 or EAP)"
      : `policies without PAP: ${withoutPap.join(", ")}`,
    ...(challenges > 0
      ? [`${challenges} x "${challengeRequestedText}" in AuthZOptCh since ${facts.since}`]
      : []),
  ];
  const user = facts.tenant.user;
  if (user?.found && !user.methodsError) {
    const totp = user.methods.filter((method) => totpMethodTypes.includes(method));
    if (totp.length === 0)
      return finding(
        "number-matching-totp",
        "warn",
        where,
        `${evidence.join("; ")}: ${user.upn} has no TOTP method and gets Approve/Deny, but every user with one fails`,
      );
    evidence.push(`${user.upn} has ${totp.join(", ")}`);
  }
  return finding(
    "number-matching-totp",
    "fail",
    where,
    `${evidence.join("; ")}: a user with a TOTP method is asked for a code MS-CHAPv2 and EAP cannot carry`,
  );
}
