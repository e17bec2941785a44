// Property values as they travel over gRPC: what survives a google-protobuf Struct and what does not.
import { isUnknown } from "@pulumi/pulumi/output";
import { isRpcSecret, unknownValue, unwrapRpcSecret } from "@pulumi/pulumi/runtime/rpc";

export type PropertyMap = Record<string, unknown>;

/** The serialized dynamic provider every dynamic resource carries among its inputs and outputs. */
export const providerKey = "__provider";

/**
 * A value as the provider receives it: secrets unwrapped (the engine does this for providers that do
 * not accept secrets), unknowns as Pulumi's unknown sentinel string, `undefined` properties dropped and
 * `undefined` array items as null, as a Struct would.
 */
export function toWire(value: unknown): unknown {
  if (isRpcSecret(value)) return toWire(unwrapRpcSecret(value));
  if (isUnknown(value)) return unknownValue;
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : toWire(item)));
  if (value !== null && typeof value === "object") {
    const result: PropertyMap = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) result[key] = toWire(item);
    }
    return result;
  }
  return value;
}

/** True if the value is, or holds, a value not known until apply (previews only). */
export function containsUnknown(value: unknown): boolean {
  const wire = toWire(value);
  if (wire === unknownValue) return true;
  if (wire !== null && typeof wire === "object") return Object.values(wire).some(containsUnknown);
  return false;
}

/** Top-level keys whose (unwrapped) value is a secret. */
export function secretKeysOf(properties: PropertyMap): string[] {
  return Object.keys(properties).filter((key) => isRpcSecret(properties[key]));
}

/** Deep equality after a gRPC round trip: key order and `undefined` do not count. */
export function sameOnWire(left: unknown, right: unknown): boolean {
  return canonicalJson(toWire(left)) === canonicalJson(toWire(right));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Which top-level properties a change touches, as the CLI lists them for a provider that sends no
 * detailed diff: each key whose old and new values differ, including keys only one side has.
 */
export function changedProperties(olds: PropertyMap, news: PropertyMap): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  keys.delete(providerKey);
  return [...keys].filter((key) => !sameOnWire(olds[key], news[key])).sort();
}
