// MFA waits for a person to approve on a phone: a VPN server that gives up on RADIUS sooner fails the
// connection however healthy the NPS extension is.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { minimumRadiusTimeoutSeconds } from "../../config/schema";
import { dynamicTypeNames, RadiusTimeoutInputs } from "../../providers/resourceTypes";
import { describeResource, isDynamicType, violationMessage, whenKnown, withDefaults } from "./support";

export interface RadiusTimeoutMinimumConfig {
  /** Shortest RADIUS timeout allowed, in seconds; never below 60 (Microsoft's minimum for MFA). */
  minimumSeconds: number;
}

export const radiusTimeoutMinimumDefaults: RadiusTimeoutMinimumConfig = {
  minimumSeconds: minimumRadiusTimeoutSeconds,
};

/** The minimum in force: the configured one, but never below Microsoft's 60 s. */
export function effectiveMinimumSeconds(config: Partial<RadiusTimeoutMinimumConfig>): number {
  const { minimumSeconds } = withDefaults(config, radiusTimeoutMinimumDefaults);
  return Math.max(minimumSeconds, minimumRadiusTimeoutSeconds);
}

export const radiusTimeoutMinimum: ResourceValidationPolicy = {
  name: "radius-timeout-minimum",
  description:
    "Every RadiusTimeout gives the NPS servers at least the configured number of seconds (default and floor: " +
    `${minimumRadiusTimeoutSeconds}) to answer, long enough for a person to approve the MFA prompt.`,
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minimumSeconds: {
        type: "integer",
        minimum: minimumRadiusTimeoutSeconds,
        default: minimumRadiusTimeoutSeconds,
        description: `Shortest RADIUS timeout allowed, in seconds (at least ${minimumRadiusTimeoutSeconds}).`,
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (!isDynamicType(args.type, dynamicTypeNames.radiusTimeout)) return;
    const props = args.props as Partial<RadiusTimeoutInputs>;
    const timeoutSeconds = whenKnown(() => props.timeoutSeconds);
    if (typeof timeoutSeconds !== "number") return;
    const minimumSeconds = effectiveMinimumSeconds(args.getConfig<Partial<RadiusTimeoutMinimumConfig>>());
    if (timeoutSeconds >= minimumSeconds) return;
    const host = whenKnown(() => props.hostname);
    // An NPS server that forwards to another NPS declares no list: the timeout is its remote server groups'.
    const npsServers = whenKnown(() => props.npsServers?.join(", ")) || "its remote RADIUS server groups";
    reportViolation(
      violationMessage({
        problem:
          `RADIUS timeout is ${timeoutSeconds} s for ${npsServers}, ` +
          `below the minimum of ${minimumSeconds} s`,
        resource: describeResource(args, host),
        symptom:
          "MFA waits for a person to approve on a phone; the VPN server gives up first and the client fails with " +
          '"the port used for this connection was closed" (RasClient event 20227 on the client), while NPS may log event 6274 ' +
          "for the retried requests",
        fix:
          `set vpnServers[].radiusTimeoutSeconds for ${host ?? "this VPN server"} to at least ${minimumSeconds} ` +
          "(90-120 s avoids duplicate MFA prompts)",
      }),
    );
  },
};
