// Runs the Pulumi program under pulumi.runtime.setMocks and records every resource it registers,
// as the engine would see them: type, name, inputs.
import * as pulumi from "@pulumi/pulumi";
import { project, stackConfigText, StackSettings, stackName, waitForRegistrations } from "../../engine/stack";

export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/**
 * Runs `program` under mocks. Each resource's outputs are its inputs, plus what `outputsFor` adds: a test
 * gives a provider's outputs (a certificate's thumbprint) so the resources that wait on them register too.
 */
export async function runProgram<T>(
  stack: StackSettings,
  program: () => T,
  outputsFor: (resource: RegisteredResource) => Record<string, unknown> = () => ({}),
): Promise<{ result: T; resources: RegisteredResource[] }> {
  const resources: RegisteredResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const resource = { type: args.type, name: args.name, inputs: args.inputs };
        resources.push(resource);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsFor(resource) } };
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
