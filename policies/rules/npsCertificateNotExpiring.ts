// An NPS certificate close to its notAfter means renewal has not happened: once it expires, Entra ID
// refuses the extension's token requests from that server.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import {
  dynamicTypeNames,
  NpsCertificateCredentialInputs,
  NpsCertificateOutputs,
} from "../../providers/resourceTypes";
import {
  describeResource,
  estsTokenErrorSymptom,
  resourcesOfType,
  violationMessage,
  whenKnown,
  withDefaults,
} from "./support";

export interface NpsCertificateNotExpiringConfig {
  /** Warn when a certificate expires within this many days. */
  daysBeforeExpiry: number;
}

export const npsCertificateNotExpiringDefaults: NpsCertificateNotExpiringConfig = { daysBeforeExpiry: 30 };

const millisecondsPerDay = 24 * 60 * 60 * 1000;

interface CertificateSighting {
  resource: PolicyResource;
  host: string | undefined;
  notAfter: string | undefined;
  renewalDays: number | undefined;
  thumbprint: string | undefined;
}

/** Where a certificate's notAfter shows: the credential's inputs, and the host certificate's outputs. */
function sightings(resources: PolicyResource[]): CertificateSighting[] {
  const onTenant = resourcesOfType(resources, dynamicTypeNames.npsCertificateCredential).map((resource) => {
    const props = resource.props as Partial<NpsCertificateCredentialInputs>;
    return {
      resource,
      host: whenKnown(() => props.npsHostname),
      notAfter: whenKnown(() => props.certificate?.notAfter),
      renewalDays: whenKnown(() => props.renewalDays),
      thumbprint: whenKnown(() => props.certificate?.thumbprint),
    };
  });
  const onHost = resourcesOfType(resources, dynamicTypeNames.npsCertificate).map((resource) => {
    const props = resource.props as Partial<NpsCertificateOutputs>;
    return {
      resource,
      host: whenKnown(() => props.hostname),
      notAfter: whenKnown(() => props.certificate?.notAfter),
      renewalDays: whenKnown(() => props.renewalDays),
      thumbprint: whenKnown(() => props.certificate?.thumbprint),
    };
  });
  return [...onHost, ...onTenant];
}

export const npsCertificateNotExpiring: StackValidationPolicy = {
  name: "nps-certificate-not-expiring",
  description:
    "No NPS certificate (on the host, or registered on the MFA Client service principal) expires within the " +
    "configured number of days (default 30).",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      daysBeforeExpiry: {
        type: "integer",
        minimum: 1,
        default: npsCertificateNotExpiringDefaults.daysBeforeExpiry,
        description: "Report a certificate that expires within this many days.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { daysBeforeExpiry } = withDefaults(
      args.getConfig<Partial<NpsCertificateNotExpiringConfig>>(),
      npsCertificateNotExpiringDefaults,
    );
    const now = Date.now();
    for (const sighting of sightings(args.resources)) {
      // Not known yet: the certificate is being created or renewed in this very update.
      if (sighting.notAfter === undefined) continue;
      const expires = Date.parse(sighting.notAfter);
      const where = describeResource(sighting.resource, sighting.host);
      const certificate = `the NPS certificate${sighting.thumbprint ? ` ${sighting.thumbprint}` : ""} of ${sighting.host ?? "an NPS server"}`;
      if (Number.isNaN(expires)) {
        reportViolation(
          violationMessage({
            problem: `${certificate} has notAfter ${JSON.stringify(sighting.notAfter)}, which is not a date`,
            resource: where,
            symptom:
              "its expiry cannot be watched, and an expired certificate means " + estsTokenErrorSymptom,
            fix: "run pulumi refresh so the provider reads the certificate back from the host (ISO 8601 notAfter)",
          }),
          sighting.resource.urn,
        );
        continue;
      }
      const daysLeft = Math.floor((expires - now) / millisecondsPerDay);
      if (daysLeft >= daysBeforeExpiry) continue;
      const when = new Date(expires).toISOString().slice(0, 10);
      reportViolation(
        violationMessage({
          problem:
            expires <= now
              ? `${certificate} expired on ${when}`
              : `${certificate} expires on ${when}, in ${daysLeft} day(s) (warning threshold ${daysBeforeExpiry})`,
          resource: where,
          symptom: `once it has expired Entra ID refuses the extension's token requests: ${estsTokenErrorSymptom}`,
          fix:
            `run pulumi up to renew it${sighting.renewalDays ? ` (renewal is due ${sighting.renewalDays} days before expiry)` : ""}, ` +
            "and find out why the last update did not: a failed or skipped pipeline run, or WinRM unreachable",
        }),
        sighting.resource.urn,
      );
    }
  },
};
