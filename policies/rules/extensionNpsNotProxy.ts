// Microsoft documents that an NPS server running the Entra MFA extension cannot also forward RADIUS to a
// remote RADIUS server (Learn: entra/identity/authentication/howto-mfa-nps-extension, prerequisites;
// howto-mfa-nps-extension-vpn). A stack that manages remote RADIUS server groups (a forwarding RadiusTimeout)
// on a host that also has the extension's settings has declared an extension NPS as a proxy.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import {
  dynamicTypeNames,
  NpsExtensionSettingsInputs,
  RadiusTimeoutInputs,
} from "../../providers/resourceTypes";
import { describeResource, resourcesOfType, sameHost, violationMessage, whenKnown } from "./support";

const hostOf = (resource: PolicyResource) =>
  whenKnown(() => (resource.props as Partial<NpsExtensionSettingsInputs>).hostname);

export const extensionNpsNotProxy: StackValidationPolicy = {
  name: "extension-nps-not-proxy",
  description:
    "No host both runs the NPS extension (NpsExtensionSettings) and forwards RADIUS through remote RADIUS server " +
    "groups (a RadiusTimeout with remoteServerGroups): an NPS with the extension cannot proxy.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const extensionHosts = resourcesOfType(args.resources, dynamicTypeNames.npsExtensionSettings)
      .map(hostOf)
      .filter((host): host is string => typeof host === "string");
    const forwarding = resourcesOfType(args.resources, dynamicTypeNames.radiusTimeout).filter(
      (resource) =>
        whenKnown(() => (resource.props as Partial<RadiusTimeoutInputs>).remoteServerGroups) === true,
    );
    if (extensionHosts.length === 0 || forwarding.length === 0) {
      args.notApplicable("the stack declares no extension NPS server or no RADIUS forwarding");
    }
    for (const resource of forwarding) {
      const host = hostOf(resource);
      if (!extensionHosts.some((extensionHost) => sameHost(extensionHost, host))) continue;
      reportViolation(
        violationMessage({
          problem: `${host} runs the NPS extension and is declared as a RADIUS proxy (remote RADIUS server groups)`,
          resource: describeResource(resource, host),
          symptom:
            "an NPS server with the MFA extension cannot forward RADIUS to another server (Microsoft Learn, " +
            "howto-mfa-nps-extension): requests it should forward are answered or dropped by the extension instead",
          fix:
            "declare the proxy as a separate NPS server without the extension in radiusProxies, forwarding to the " +
            "extension NPS servers, and remove this host's forwarding",
        }),
        resource.urn,
      );
    }
  },
};
