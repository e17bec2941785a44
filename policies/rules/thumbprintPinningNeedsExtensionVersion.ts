// CLIENT_CERT_IDENTIFIER as a certificate thumbprint is read from NPS extension 1.2.2893.1 on; older versions
// ignore it and pick a certificate by subject (Learn: howto-mfa-nps-extension). A stack that pins by thumbprint
// and accepts an older extension (extension.minimumVersion) lets a server sign with a certificate nobody chose.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { atLeast, clientCertIdentifierMinimumVersion } from "../../config/extensionVersions";
import { dynamicTypeNames, NpsExtensionSettingsInputs } from "../../providers/resourceTypes";
import { describeResource, isDynamicType, isUnknown, violationMessage, whenKnown } from "./support";

const thumbprintPattern = /^[0-9A-Fa-f]{40}$/;

export const thumbprintPinningNeedsExtensionVersion: ResourceValidationPolicy = {
  name: "thumbprint-pinning-needs-extension-version",
  description:
    "An NpsExtensionSettings that pins CLIENT_CERT_IDENTIFIER by thumbprint declares no minimumExtensionVersion below " +
    `${clientCertIdentifierMinimumVersion}, the first extension version that reads it.`,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!isDynamicType(args.type, dynamicTypeNames.npsExtensionSettings)) return;
    const props = args.props as Partial<NpsExtensionSettingsInputs>;
    const minimum = whenKnown(() => props.minimumExtensionVersion);
    if (typeof minimum !== "string" || atLeast(minimum, clientCertIdentifierMinimumVersion)) return;
    const settings = whenKnown(() => props.settings);
    // Our components pin the certificate they make: its thumbprint is unknown until it exists.
    const pinned =
      settings === undefined ||
      isUnknown(() => settings.CLIENT_CERT_IDENTIFIER) ||
      thumbprintPattern.test(String(whenKnown(() => settings.CLIENT_CERT_IDENTIFIER) ?? ""));
    if (!pinned) return;
    const host = whenKnown(() => props.hostname);
    reportViolation(
      violationMessage({
        problem: `${host ?? args.name} pins CLIENT_CERT_IDENTIFIER by thumbprint but accepts extension ${minimum}`,
        resource: describeResource(args, host),
        symptom:
          `extensions before ${clientCertIdentifierMinimumVersion} ignore the thumbprint and sign with any certificate of ` +
          "the tenant's subject: after a renewal, possibly one whose key is gone from the Client service principal " +
          "(ESTS_TOKEN_ERROR, AADSTS700027)",
        fix: `declare extension.minimumVersion ${clientCertIdentifierMinimumVersion} or later, and upgrade older servers`,
      }),
    );
  },
};
