// The stack a program runs as: its project and stack names, and its config as Pulumi keeps it (full keys,
// text values, the encrypted keys), which both the engine and the program's unit tests hand the runtime.
import * as settings from "@pulumi/pulumi/runtime/settings";

export interface StackSettings {
  /** Settings by short key (`tenantId`, `npsServers`, ...); objects are stored as Pulumi stores them, as JSON. */
  config: Record<string, unknown>;
  /** Short keys the stack keeps encrypted. */
  secretKeys?: string[];
}

export const project = "npsmfa";
export const stackName = "test";

/** The stack's config as Pulumi keeps it: full keys (`npsmfa:tenantId`) to text, and the encrypted keys. */
export function stackConfigText(stack: StackSettings): {
  config: Record<string, string>;
  secretKeys: Set<string>;
} {
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(stack.config)) {
    config[`${project}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { config, secretKeys: new Set((stack.secretKeys ?? []).map((key) => `${project}:${key}`)) };
}

// Internal to the SDK (absent from its typings): resolves once no registration is outstanding.
const { waitForRPCs } = settings as unknown as { waitForRPCs(): Promise<void> };

/** Resolves once every registration the program started has reached the (mock) monitor. */
export function waitForRegistrations(): Promise<void> {
  return waitForRPCs();
}
