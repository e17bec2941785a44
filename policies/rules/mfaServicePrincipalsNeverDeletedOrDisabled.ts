// Any stack in the organisation can hold the two first-party MFA service principals; none may delete or
// disable them. The generic azuread.ServicePrincipal deletes the one it adopted on destroy or replacement.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { dynamicTypeNames, ServicePrincipalEnabledInputs } from "../../providers/resourceTypes";
import {
  describeResource,
  estsTokenErrorSymptom,
  isDynamicType,
  MfaApp,
  mfaAppOf,
  violationMessage,
  whenKnown,
  withDefaults,
} from "./support";

/** `azuread.ServicePrincipal` of @pulumi/azuread (its static __pulumiType). */
export const azureAdServicePrincipalType = "azuread:index/servicePrincipal:ServicePrincipal";

export interface MfaServicePrincipalsNeverDeletedOrDisabledConfig {
  /**
   * URNs of azuread.ServicePrincipal resources that set retainOnDelete: true. CrossGuard does not see
   * retainOnDelete (only protect), so such a resource passes only when listed here.
   */
  retainOnDeleteUrns: string[];
}

export const mfaServicePrincipalsNeverDeletedOrDisabledDefaults: MfaServicePrincipalsNeverDeletedOrDisabledConfig =
  {
    retainOnDeleteUrns: [],
  };

const lostWhy = (app: MfaApp, lost: "disabled" | "deleted") =>
  `${estsTokenErrorSymptom}; Entra ID answers ${app.disabledError} for the ${lost} ${app.displayName}, for every ` +
  "NPS server of the tenant at once";

export const mfaServicePrincipalsNeverDeletedOrDisabled: ResourceValidationPolicy = {
  name: "mfa-service-principals-never-deleted-or-disabled",
  description:
    "No resource may delete or disable a Microsoft first-party MFA service principal (Azure Multi-Factor Auth " +
    "Client or Connector): an azuread.ServicePrincipal for one must be protected and enabled, and a " +
    "ServicePrincipalEnabled for one must keep accountEnabled true.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      retainOnDeleteUrns: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
          "URNs of azuread.ServicePrincipal resources that set retainOnDelete: true (CrossGuard cannot see that option).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const ours = isDynamicType(args.type, dynamicTypeNames.servicePrincipalEnabled);
    if (!ours && args.type !== azureAdServicePrincipalType) return;
    // @pulumi/azuread 6 names the application ID clientId; 5.x called it applicationId.
    const appId = whenKnown(() =>
      ours
        ? (args.props as Partial<ServicePrincipalEnabledInputs>).appId
        : (args.props.clientId ?? args.props.applicationId),
    );
    const app = mfaAppOf(appId);
    if (app === undefined) return;
    const where = describeResource(args);

    if (whenKnown(() => args.props.accountEnabled) === false) {
      reportViolation(
        violationMessage({
          problem: `accountEnabled is false for the first-party ${app.displayName} service principal (appId ${app.appId})`,
          resource: where,
          symptom: lostWhy(app, "disabled"),
          fix: "set accountEnabled to true (or leave it out of an azuread.ServicePrincipal: the default is true)",
        }),
      );
    }

    if (ours) return;
    const { retainOnDeleteUrns } = withDefaults(
      args.getConfig<Partial<MfaServicePrincipalsNeverDeletedOrDisabledConfig>>(),
      mfaServicePrincipalsNeverDeletedOrDisabledDefaults,
    );
    if (args.opts.protect || retainOnDeleteUrns.includes(args.urn)) return;
    reportViolation(
      violationMessage({
        problem:
          `azuread.ServicePrincipal manages the first-party ${app.displayName} service principal (appId ` +
          `${app.appId}) without protect: pulumi destroy, a replacement or removing it from the program deletes ` +
          "it from the tenant",
        resource: where,
        symptom: lostWhy(app, "deleted"),
        fix:
          "manage it with this project's MfaTenant / ServicePrincipalEnabled (which never deletes), or give the " +
          "resource { protect: true, retainOnDelete: true }; with retainOnDelete alone, list its URN in this " +
          "policy's retainOnDeleteUrns",
      }),
    );
  },
};
