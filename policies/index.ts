// The policy pack's entry: `pulumi preview --policy-pack policies` loads this file, and constructing the
// PolicyPack starts the analyzer server. It only assembles the rules; each lives, and is tested, in rules/.
import { PolicyPack } from "@pulumi/policy";
import { extensionNpsNotProxy } from "./rules/extensionNpsNotProxy";
import { iasRestartsSerialised } from "./rules/iasRestartsSerialised";
import { mfaServicePrincipalsEnabled } from "./rules/mfaServicePrincipalsEnabled";
import { mfaServicePrincipalsNeverDeletedOrDisabled } from "./rules/mfaServicePrincipalsNeverDeletedOrDisabled";
import { npsCertificateNotExpiring } from "./rules/npsCertificateNotExpiring";
import { npsCertificateRegistered } from "./rules/npsCertificateRegistered";
import { npsExtensionSettingsConsistent } from "./rules/npsExtensionSettingsConsistent";
import { numberMatchingApproveDeny } from "./rules/numberMatchingApproveDeny";
import { thumbprintPinningNeedsExtensionVersion } from "./rules/thumbprintPinningNeedsExtensionVersion";
import { radiusTimeoutMinimum } from "./rules/radiusTimeoutMinimum";
import { winrmHttpsVerified } from "./rules/winrmHttpsVerified";

new PolicyPack("npsmfa-ests-token-error", {
  description: "Stops a change that would bring ESTS_TOKEN_ERROR back to Always On VPN with Entra ID MFA.",
  policies: [
    mfaServicePrincipalsEnabled,
    mfaServicePrincipalsNeverDeletedOrDisabled,
    npsCertificateRegistered,
    npsCertificateNotExpiring,
    radiusTimeoutMinimum,
    winrmHttpsVerified,
    iasRestartsSerialised,
    npsExtensionSettingsConsistent,
    extensionNpsNotProxy,
    numberMatchingApproveDeny,
    thumbprintPinningNeedsExtensionVersion,
  ],
});
