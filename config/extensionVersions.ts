// Releases of the NPS extension whose behaviour the tool, the doctor and the lab depend on (Learn,
// howto-mfa-nps-extension "NPS extension versions" and how-to-mfa-number-match "NPS extension";
// docs/windows.md keeps the table with its sources).

/** From this version a user with a TOTP method is asked for a TOTP instead of Approve/Deny (number matching). */
export const totpPromptMinimumVersion = "1.2.2216.1";

/** From this version CLIENT_CERT_IDENTIFIER pins the certificate by thumbprint. */
export const clientCertIdentifierMinimumVersion = "1.2.2893.1";

/** Compares dotted versions numerically ("1.2.2893.1" > "1.2.900.0"). */
export function compareVersions(a: string, b: string): number {
  const left = a.split(".").map(Number);
  const right = b.split(".").map(Number);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/** Whether `version` is at least `minimum`; an unknown version (null) is not. */
export function atLeast(version: string | null | undefined, minimum: string): boolean {
  return typeof version === "string" && compareVersions(version, minimum) >= 0;
}
