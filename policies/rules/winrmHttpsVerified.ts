// Providers run PowerShell as an administrator of every NPS and VPN server over WinRM: that channel must be
// encrypted and must check whose certificate it talks to.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { DynamicTypeName, dynamicTypeNames, WinrmEndpointInputs } from "../../providers/resourceTypes";
import { describeResource, isDynamicType, violationMessage, whenKnown } from "./support";

/** Our resources that reach a Windows host. */
const winrmResourceTypes: DynamicTypeName[] = [
  dynamicTypeNames.npsCertificate,
  dynamicTypeNames.npsExtensionSettings,
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

const consequence =
  "the providers send an administrator's credentials and PowerShell that writes the NPS extension's registry, " +
  "certificate and RADIUS settings; whoever reads or alters that traffic owns the servers or breaks MFA " +
  "(ESTS_TOKEN_ERROR, NPS event 6274, RasClient event 20221)";

export const winrmHttpsVerified: ResourceValidationPolicy = {
  name: "winrm-https-verified",
  description:
    "Every WinRM endpoint is https:// with certificate verification on; never Basic authentication over plain HTTP.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!winrmResourceTypes.some((name) => isDynamicType(args.type, name))) return;
    const host = whenKnown(() => args.props.hostname as string | undefined);
    const winrm = whenKnown(() => args.props.winrm as Partial<WinrmEndpointInputs> | undefined);
    if (winrm === undefined) return;
    const where = describeResource(args, host);
    const url = whenKnown(() => winrm.url);
    const auth = whenKnown(() => winrm.auth);
    if (url !== undefined && !/^https:\/\//i.test(url)) {
      const basic = auth === "basic";
      reportViolation(
        violationMessage({
          problem: basic
            ? `WinRM uses Basic authentication over ${JSON.stringify(url)}: the password travels readable`
            : `WinRM endpoint ${JSON.stringify(url)} is not https://`,
          resource: where,
          symptom: consequence,
          fix:
            `configure a WinRM HTTPS listener (port 5986) on ${host ?? "the host"} and set winrm.url to ` +
            `https://${host ?? "<host>"}:5986/wsman`,
        }),
      );
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
