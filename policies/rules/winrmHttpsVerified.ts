// Providers run PowerShell as an administrator of every NPS and VPN server over WinRM: that channel must be
// encrypted and must check whose certificate it talks to. Encrypted means https://, or http:// with NTLM,
// where our client seals every message with the session keys (MS-WSMV 2.2.9.1, docs/winrm.md).
import { ResourceValidationPolicy } from "@pulumi/policy";
import { DynamicTypeName, dynamicTypeNames, WinrmEndpointInputs } from "../../providers/resourceTypes";
import { describeResource, isDynamicType, violationMessage, whenKnown } from "./support";

/** Our resources that reach a Windows host. */
const winrmResourceTypes: DynamicTypeName[] = [
  dynamicTypeNames.npsCertificate,
  dynamicTypeNames.npsExtensionSettings,
  dynamicTypeNames.npsExtensionInstall,
  dynamicTypeNames.radiusTimeout,
  dynamicTypeNames.iasRestart,
];

/**
 * Switches WinRM clients use to skip certificate checks (pywinrm, PowerShell's New-PSSessionOption, Node TLS).
 * The contract has none of them; this keeps one from creeping in.
 */
const verificationBypasses: Record<string, unknown> = {
  insecure: true,
  insecureSkipVerify: true,
  skipCertificateCheck: true,
  skipCaCheck: true,
  skipCnCheck: true,
  rejectUnauthorized: false,
  serverCertValidation: "ignore",
};

/** Switches that would send WinRM messages unencrypted over http (pywinrm's, WinRM's own setting name). */
const encryptionBypasses: Record<string, unknown> = {
  messageEncryption: "never",
  allowUnencrypted: true,
};

const consequence =
  "the providers send an administrator's credentials and PowerShell that writes the NPS extension's registry, " +
  "certificate and RADIUS settings; whoever reads or alters that traffic owns the servers or breaks MFA " +
  "(ESTS_TOKEN_ERROR, NPS event 6274, RasClient event 20227 on the client)";

export const winrmHttpsVerified: ResourceValidationPolicy = {
  name: "winrm-https-verified",
  description:
    "Every WinRM endpoint is encrypted: https:// with certificate verification on, or http:// with NTLM message " +
    "encryption; never Basic authentication or unencrypted messages over plain HTTP.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!winrmResourceTypes.some((name) => isDynamicType(args.type, name))) return;
    const host = whenKnown(() => args.props.hostname as string | undefined);
    const winrm = whenKnown(() => args.props.winrm as Partial<WinrmEndpointInputs> | undefined);
    if (winrm === undefined) return;
    const where = describeResource(args, host);
    const url = whenKnown(() => winrm.url);
    const auth = whenKnown(() => winrm.auth);
    const plainHttp = url !== undefined && !/^https:\/\//i.test(url);
    // Over http only NTLM seals each message; Basic sends the password readable, a certificate needs TLS.
    // Unknown until deployment (auth computed): left alone, like an unknown URL.
    if (plainHttp && auth !== undefined && auth !== "ntlm") {
      const basic = auth === "basic";
      reportViolation(
        violationMessage({
          problem: basic
            ? `WinRM uses Basic authentication over ${JSON.stringify(url)}: the password travels readable`
            : `WinRM endpoint ${JSON.stringify(url)} is plain http with ${auth} authentication: its messages are not encrypted`,
          resource: where,
          symptom: consequence,
          fix:
            `use auth ntlm on ${JSON.stringify(url)} (every message is then encrypted), or configure a WinRM HTTPS ` +
            `listener (port 5986) on ${host ?? "the host"} and set winrm.url to https://${host ?? "<host>"}:5986/wsman`,
        }),
      );
    }
    for (const [setting, bypass] of Object.entries(encryptionBypasses)) {
      if (plainHttp && whenKnown(() => (winrm as Record<string, unknown>)[setting]) === bypass) {
        reportViolation(
          violationMessage({
            problem: `winrm.${setting} is ${JSON.stringify(bypass)} on ${JSON.stringify(url)}: messages travel unencrypted`,
            resource: where,
            symptom: consequence,
            fix: `remove winrm.${setting}; over http every message must be sealed with NTLM`,
          }),
        );
      }
    }
    for (const [setting, bypass] of Object.entries(verificationBypasses)) {
      if (whenKnown(() => (winrm as Record<string, unknown>)[setting]) === bypass) {
        reportViolation(
          violationMessage({
            problem: `winrm.${setting} is ${JSON.stringify(bypass)}: the listener's certificate is not verified`,
            resource: where,
            symptom: `anyone in the path can pose as ${host ?? "the host"}; ${consequence}`,
            fix: `remove winrm.${setting}; trust the listener's issuer with winrm.caFile or pin it with winrm.thumbprint`,
          }),
        );
      }
    }
  },
};
