// Every rule of the pack, in the order the pack lists them: this pack's entry (index.ts) and a user's own
// pack (`import { npsmfaPolicies } from "npsmfa/policies"`) assemble the same list.
import type { Policies } from "@pulumi/policy";
import { extensionInstallsOneAtATime } from "./rules/extensionInstallsOneAtATime";
import { extensionNpsNotProxy } from "./rules/extensionNpsNotProxy";
import { iasRestartsSerialised } from "./rules/iasRestartsSerialised";
import { mfaServicePrincipalsEnabled } from "./rules/mfaServicePrincipalsEnabled";
import { mfaServicePrincipalsNeverDeletedOrDisabled } from "./rules/mfaServicePrincipalsNeverDeletedOrDisabled";
import { npsCertificateNotExpiring } from "./rules/npsCertificateNotExpiring";
import { npsCertificateRegistered } from "./rules/npsCertificateRegistered";
import { npsExtensionSettingsConsistent } from "./rules/npsExtensionSettingsConsistent";
import { numberMatchingApproveDeny } from "./rules/numberMatchingApproveDeny";
import { radiusTimeoutMinimum } from "./rules/radiusTimeoutMinimum";
import { thumbprintPinningNeedsExtensionVersion } from "./rules/thumbprintPinningNeedsExtensionVersion";
import { winrmHttpsVerified } from "./rules/winrmHttpsVerified";

export {
  extensionInstallsOneAtATime,
  extensionNpsNotProxy,
  iasRestartsSerialised,
  mfaServicePrincipalsEnabled,
  mfaServicePrincipalsNeverDeletedOrDisabled,
  npsCertificateNotExpiring,
  npsCertificateRegistered,
  npsExtensionSettingsConsistent,
  numberMatchingApproveDeny,
  radiusTimeoutMinimum,
  thumbprintPinningNeedsExtensionVersion,
  winrmHttpsVerified,
};

export const npsmfaPolicies: Policies = [
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
  extensionInstallsOneAtATime,
];
