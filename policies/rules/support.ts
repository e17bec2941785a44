// What every rule shares: recognising our resource types, reading values that a preview may not know
// yet, and writing a violation that says what is wrong, where, what users see, and the fix.
import * as policyRuntime from "@pulumi/policy";
import { PolicyResource } from "@pulumi/policy";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { DynamicTypeName, dynamicTypeToken } from "../../providers/resourceTypes";

// The runtime exports the error its property proxy throws for values unknown during preview; the typings do not.
const { UnknownValueError } = policyRuntime as unknown as { UnknownValueError: abstract new () => Error };

/**
 * Reads a property that may be unknown during `pulumi preview` (computed by a resource not created yet).
 * Unknown reads as undefined: rules judge only what they can see, and the same rule runs again on `pulumi up`.
 */
export function whenKnown<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof UnknownValueError) return undefined;
    throw error;
  }
}

/** True when a property cannot be known until `pulumi up` (a preview of values computed by other resources). */
export function isUnknown(read: () => unknown): boolean {
  try {
    read();
    return false;
  } catch (error) {
    if (error instanceof UnknownValueError) return true;
    throw error;
  }
}

/** True when the engine orders `resource` after `prerequisite`: a chain of dependencies links them. */
export function dependsOn(resource: PolicyResource, prerequisite: PolicyResource): boolean {
  const seen = new Set<string>();
  const pending = [...resource.dependencies];
  while (pending.length > 0) {
    const next = pending.pop() as PolicyResource;
    if (next.urn === prerequisite.urn) return true;
    if (seen.has(next.urn)) continue;
    seen.add(next.urn);
    pending.push(...next.dependencies);
  }
  return false;
}

/** True when `type` is the token of one of our dynamic resources, `pulumi-nodejs:dynamic/npsmfa:<name>`. */
export function isDynamicType(type: string, name: DynamicTypeName): boolean {
  return type === dynamicTypeToken(name);
}

export function resourcesOfType(resources: PolicyResource[], name: DynamicTypeName): PolicyResource[] {
  return resources.filter((resource) => isDynamicType(resource.type, name));
}

/** DNS names compare without regard to case. */
export function sameHost(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Application IDs are GUIDs: compare without regard to case. */
export function sameAppId(a: unknown, b: string): boolean {
  return typeof a === "string" && a.toLowerCase() === b.toLowerCase();
}

/** How a violation names the resource: `NpsCertificate "nps01-certificate" (host nps01..., urn:pulumi:...)`. */
export function describeResource(
  resource: { type: string; name: string; urn: string },
  host?: string,
): string {
  const kind = resource.type.slice(resource.type.lastIndexOf(":") + 1);
  const where = host ? `host ${host}, ${resource.urn}` : resource.urn;
  return `${kind} "${resource.name}" (${where})`;
}

export interface Finding {
  /** What is wrong, with the values found. */
  problem: string;
  /** Which resource: see describeResource. */
  resource: string;
  /** What users or operators see when this reaches production. */
  symptom: string;
  /** What to change. */
  fix: string;
}

/** One violation message: what, where, why it matters, how to fix it. */
export function violationMessage(finding: Finding): string {
  return `${finding.problem} on ${finding.resource}. Why it matters: ${finding.symptom}. Fix: ${finding.fix}`;
}

/** The failure this pack exists to prevent, as users and operators see it. */
export const estsTokenErrorSymptom =
  "the NPS extension cannot get a token from Entra ID and logs ESTS_TOKEN_ERROR (AzureMfa AuthZ event 3), NPS " +
  'discards the request (Security event 6274) and Always On VPN fails after a timeout with "the port used for ' +
  'this connection was closed" (RasClient event 20227 on the client)';

/** Reads a policy's configuration and fills in what the stack's policy config leaves out. */
export function withDefaults<T extends object>(configured: Partial<T>, defaults: T): T {
  const merged = { ...defaults };
  for (const [key, value] of Object.entries(configured)) {
    if (value !== undefined && value !== null) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** The first-party applications the NPS extension needs, with the error Entra ID gives when one is disabled. */
export const mfaApps = [
  { appId: mfaClientAppId, displayName: "Azure Multi-Factor Auth Client", disabledError: "AADSTS7000112" },
  {
    appId: mfaConnectorAppId,
    displayName: "Azure Multi-Factor Auth Connector",
    disabledError: "AADSTS500014",
  },
] as const;
export type MfaApp = (typeof mfaApps)[number];

export function mfaAppOf(appId: unknown): MfaApp | undefined {
  return mfaApps.find((app) => sameAppId(appId, app.appId));
}
