// Both first-party MFA service principals must be declared, and enabled, by every stack that runs the
// NPS extension: without either one the extension cannot get a token at all.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { componentTypes, dynamicTypeNames } from "../../providers/resourceTypes";
import {
  describeResource,
  estsTokenErrorSymptom,
  isDynamicType,
  mfaApps,
  resourcesOfType,
  sameAppId,
  violationMessage,
  whenKnown,
} from "./support";

/** A stack relies on the NPS extension when it declares the tenant or anything on an NPS server. */
function runsNpsExtension(resources: PolicyResource[]): boolean {
  const npsSide = [
    dynamicTypeNames.npsCertificate,
    dynamicTypeNames.npsCertificateCredential,
    dynamicTypeNames.npsExtensionSettings,
    dynamicTypeNames.npsExtensionInstall,
    dynamicTypeNames.iasRestart,
  ];
  return resources.some(
    (resource) =>
      resource.type === componentTypes.mfaTenant ||
      npsSide.some((name) => isDynamicType(resource.type, name)),
  );
}

export const mfaServicePrincipalsEnabled: StackValidationPolicy = {
  name: "mfa-service-principals-enabled",
  description:
    "A stack that runs the Entra MFA NPS extension declares the Azure Multi-Factor Auth Client and Connector " +
    "service principals (ServicePrincipalEnabled) with accountEnabled true.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    if (!runsNpsExtension(args.resources)) {
      args.notApplicable("the stack declares no MfaTenant and no NPS server resources");
    }
    const declarations = resourcesOfType(args.resources, dynamicTypeNames.servicePrincipalEnabled);
    for (const app of mfaApps) {
      const declared = declarations.filter((resource) =>
        sameAppId(
          whenKnown(() => resource.props.appId),
          app.appId,
        ),
      );
      const why = `${estsTokenErrorSymptom}; Entra ID answers ${app.disabledError} for a disabled or missing ${app.displayName}`;
      if (declared.length === 0) {
        reportViolation(
          violationMessage({
            problem: `The ${app.displayName} service principal (appId ${app.appId}) is not declared`,
            resource: "this stack (it manages NPS servers but no ServicePrincipalEnabled for that appId)",
            symptom: why,
            fix:
              "declare the MfaTenant component (it adds ServicePrincipalEnabled for both MFA apps), or a " +
              `ServicePrincipalEnabled with appId ${app.appId} and accountEnabled true; then run pulumi up`,
          }),
        );
        continue;
      }
      for (const resource of declared) {
        if (whenKnown(() => resource.props.accountEnabled) === false) {
          reportViolation(
            violationMessage({
              problem: `The ${app.displayName} service principal (appId ${app.appId}) is declared with accountEnabled false`,
              resource: describeResource(resource),
              symptom: why,
              fix: "set accountEnabled to true; the NPS extension needs this service principal enabled",
            }),
            resource.urn,
          );
        }
      }
    }
  },
};
