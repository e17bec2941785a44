// Runs the Pulumi program under pulumi.runtime.setMocks and records every resource it registers,
// as the engine would see them: type, name, inputs.
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

export interface StackSettings {
  /** Settings by short key (`tenantId`, `npsServers`, ...); objects are stored as Pulumi stores them, as JSON. */
  config: Record<string, unknown>;
  /** Short keys the stack keeps encrypted. */
  secretKeys?: string[];
}

export const project = "npsmfa";
export const stackName = "test";

export async function runProgram<T>(
  stack: StackSettings,
  program: () => T,
): Promise<{ result: T; resources: RegisteredResource[] }> {
  const resources: RegisteredResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    project,
    stackName,
    false,
  );
  const { config, secretKeys } = stackConfigText(stack);
  pulumi.runtime.setAllConfig(config, [...secretKeys]);
  const result = program();
  await waitForRegistrations();
  return { result, resources };
}

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

/** Resolves once every registration the program started has reached the mock monitor. */
export function waitForRegistrations(): Promise<void> {
  return waitForRPCs();
}
