// Runs the Pulumi program under pulumi.runtime.setMocks and records every resource it registers,
// as the engine would see them: type, name, inputs.
import * as pulumi from "@pulumi/pulumi";

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

export async function runProgram<T>(
  settings: StackSettings,
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
    "npsmfa",
    "test",
    false,
  );
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings.config)) {
    config[`npsmfa:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(
    config,
    (settings.secretKeys ?? []).map((key) => `npsmfa:${key}`),
  );
  const result = program();
  // Let registrations started by the program reach the mock monitor.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { result, resources };
}
