// Runs the Pulumi program under pulumi.runtime.setMocks and records every resource it registers,
// as the engine would see them: type, name, inputs.
import * as pulumi from "@pulumi/pulumi";
import { project, stackConfigText, StackSettings, stackName, waitForRegistrations } from "../../engine/stack";

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

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
