// Number matching on a VPN stack (Learn: how-to-mfa-number-match "NPS extension"; howto-mfa-nps-extension-vpn):
// from extension 1.2.2216.1 a user with a TOTP method is asked for a code that only PAP carries. On MS-CHAPv2
// or EAP, what Windows' VPN client sends, those users cannot sign in unless OVERRIDE_NUMBER_MATCHING_WITH_OTP is
// FALSE (Approve/Deny), which Learn's VPN page asks for.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { dynamicTypeNames, NpsExtensionSettingsInputs } from "../../providers/resourceTypes";
import { describeResource, isDynamicType, violationMessage, whenKnown } from "./support";

const valueName = "OVERRIDE_NUMBER_MATCHING_WITH_OTP";

export const numberMatchingApproveDeny: ResourceValidationPolicy = {
  name: "number-matching-approve-deny",
  description:
    `Every NpsExtensionSettings sets ${valueName} to FALSE (Approve/Deny), unless the stack declares that its ` +
    "network policy uses PAP (radiusAuthentication: pap): MS-CHAPv2 and EAP cannot carry the TOTP prompt.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!isDynamicType(args.type, dynamicTypeNames.npsExtensionSettings)) return;
    const props = args.props as Partial<NpsExtensionSettingsInputs>;
    if (whenKnown(() => props.radiusAuthentication) === "pap") return;
    // Settings computed during this update (they pin a certificate not made yet) are judged when known.
    const settings = whenKnown(() => props.settings);
    if (settings === undefined) return;
    const value = whenKnown(() => settings[valueName]);
    if (typeof value === "string" && value.trim().toUpperCase() === "FALSE") return;
    const host = whenKnown(() => props.hostname);
    reportViolation(
      violationMessage({
        problem: `${host ?? args.name} leaves ${valueName} ${value === undefined ? "unset" : `= ${value}`} on a stack that does not declare PAP`,
        resource: describeResource(args, host),
        symptom:
          "from extension 1.2.2216.1 every user with a TOTP method (Authenticator codes, an OATH token) is asked for a " +
          'code that MS-CHAPv2 and EAP cannot carry: the VPN rejects them, with "Challenge requested in ' +
          'Authentication Ext" in AuthZOptCh and RasClient 20227 on the client',
        fix:
          `leave extension.overrideNumberMatchingWithOtp unset (npsmfa writes ${valueName} = FALSE) or set it to false; ` +
          "if the network policy really uses PAP and the VPN client can send a code, set radiusAuthentication: pap",
      }),
    );
  },
};
