// Each NPS server signs its token requests with its own certificate; Entra ID accepts them only when that
// certificate is a key credential of the MFA Client service principal.
import { StackValidationPolicy } from "@pulumi/policy";
import { mfaClientAppId } from "../../config/clouds";
import {
  dynamicTypeNames,
  NpsCertificateCredentialInputs,
  NpsCertificateOutputs,
} from "../../providers/resourceTypes";
import {
  describeResource,
  estsTokenErrorSymptom,
  mfaAppOf,
  resourcesOfType,
  sameAppId,
  sameHost,
  violationMessage,
  whenKnown,
} from "./support";

export const npsCertificateRegistered: StackValidationPolicy = {
  name: "nps-certificate-registered-on-mfa-client",
  description:
    "Every NPS server's certificate (NpsCertificate) is registered on the Azure Multi-Factor Auth Client service " +
    "principal by an NpsCertificateCredential for the same host, with the same thumbprint.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const certificates = resourcesOfType(args.resources, dynamicTypeNames.npsCertificate);
    const credentials = resourcesOfType(args.resources, dynamicTypeNames.npsCertificateCredential);
    if (certificates.length === 0 && credentials.length === 0) {
      args.notApplicable("the stack declares no NPS certificates");
    }
    const clientCredentials = credentials.filter((credential) => {
      const props = credential.props as Partial<NpsCertificateCredentialInputs>;
      const appId = whenKnown(() => props.clientAppId);
      if (appId === undefined || sameAppId(appId, mfaClientAppId)) return true;
      const host = whenKnown(() => props.npsHostname);
      reportViolation(
        violationMessage({
          problem:
            `The NPS certificate of ${host ?? "an NPS server"} is registered on appId ${appId}` +
            `${mfaAppOf(appId) ? ` (${mfaAppOf(appId)?.displayName})` : ""}, not on the Azure Multi-Factor Auth ` +
            `Client (${mfaClientAppId})`,
          resource: describeResource(credential, host),
          symptom: `the extension authenticates as the Client app, so ${estsTokenErrorSymptom}`,
          fix: `set clientAppId to ${mfaClientAppId}`,
        }),
        credential.urn,
      );
      return false;
    });

    for (const certificate of certificates) {
      const props = certificate.props as Partial<NpsCertificateOutputs>;
      const host = whenKnown(() => props.hostname);
      if (host === undefined) continue;
      const registered = clientCredentials.filter((credential) =>
        sameHost(
          whenKnown(() => (credential.props as Partial<NpsCertificateCredentialInputs>).npsHostname),
          host,
        ),
      );
      if (registered.length === 0) {
        reportViolation(
          violationMessage({
            problem: `No NpsCertificateCredential registers the certificate of NPS server ${host} on the Azure Multi-Factor Auth Client`,
            resource: describeResource(certificate, host),
            symptom: `Entra ID rejects the extension's signed token request from ${host}: ${estsTokenErrorSymptom}`,
            fix:
              `declare an NpsCertificateCredential with npsHostname ${host} and clientAppId ${mfaClientAppId} ` +
              "fed by this NpsCertificate's certificate output (the NpsServer component does this)",
          }),
          certificate.urn,
        );
        continue;
      }
      const onHost = whenKnown(() => props.certificate?.thumbprint);
      const registeredThumbprints = registered.map((credential) =>
        whenKnown(
          () => (credential.props as Partial<NpsCertificateCredentialInputs>).certificate?.thumbprint,
        ),
      );
      if (onHost === undefined || registeredThumbprints.some((thumbprint) => thumbprint === undefined))
        continue;
      if (!registeredThumbprints.some((thumbprint) => thumbprint?.toUpperCase() === onHost.toUpperCase())) {
        reportViolation(
          violationMessage({
            problem:
              `NPS server ${host} holds certificate ${onHost}, but the Client service principal is given ` +
              `${registeredThumbprints.join(", ")}`,
            resource: describeResource(certificate, host),
            symptom: `the key Entra ID knows is not the one ${host} signs with: ${estsTokenErrorSymptom}`,
            fix: "feed the NpsCertificateCredential from this NpsCertificate's certificate output, then pulumi up",
          }),
          certificate.urn,
        );
      }
    }
  },
};
