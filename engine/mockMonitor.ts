// Runs a Pulumi program under pulumi.runtime.setMocks, but hands every registration (with its URN,
// parent and dependencies, which Mocks.newResource never sees) to an async handler whose result becomes
// the resource's state, as the engine's would. Waits until the program registered everything.
import * as pulumi from "@pulumi/pulumi";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import { deserializeProperties, serializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as runtimeState from "@pulumi/pulumi/runtime/state";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { project, stackConfigText, stackName, StackSettings, waitForRegistrations } from "./stack";
import { PropertyMap } from "./wire";

export { project, stackConfigText, stackName, StackSettings };

export interface Registration {
  urn: string;
  type: string;
  name: string;
  /** False for component resources. */
  custom: boolean;
  parent?: string;
  /** URNs this resource's inputs or `dependsOn` point at. */
  dependencies: string[];
  /** As the SDK sent them: secrets still wrapped, unknowns (preview only) as Pulumi's unknown. */
  inputs: PropertyMap;
  /** The `import` resource option: adopt the resource with this ID instead of creating it. */
  importId?: string;
}

export interface Registered {
  /** undefined: no id (components, and creates during a preview). */
  id: string | undefined;
  /** The resource's state; during a preview, declared outputs missing here read as unknown. */
  outputs: PropertyMap;
}

interface MockMonitorInternals {
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
  registerResource(
    request: resourceProto.RegisterResourceRequest,
    callback: (error: unknown, response?: unknown) => void,
  ): Promise<void>;
}

/**
 * Runs the program to completion, or until `cancelled` resolves (the engine cancels a deployment after a
 * failed step, and the program's registrations that wait on the failed resource never complete); returns
 * its errors (a throw, failed registrations), [] if none.
 */
export async function runUnderMocks(
  stack: StackSettings,
  preview: boolean,
  program: () => unknown,
  register: (registration: Registration) => Promise<Registered>,
  cancelled: Promise<void> = new Promise<void>(() => undefined),
): Promise<unknown[]> {
  await pulumi.runtime.setMocks(
    {
      newResource: () => {
        throw new Error("npsmfa engine: registerResource is intercepted, newResource is never called");
      },
      call: (args) => {
        throw new Error(
          `npsmfa engine: the program invoked ${args.token}, which no provider here implements`,
        );
      },
    },
    project,
    stackName,
    preview,
  );
  const monitor = settings.getMonitor() as unknown as MockMonitorInternals;
  monitor.registerResource = async (request, callback) => {
    try {
      const type = request.getType();
      const name = request.getName();
      const parent = request.getParent() || undefined;
      const urn = newUrn(parent, type, name);
      const result = await register({
        urn,
        type,
        name,
        custom: request.getCustom(),
        parent,
        dependencies: request.getDependenciesList(),
        inputs: deserializeProperties(request.getObject() ?? new Struct()) as PropertyMap,
        ...(request.getImportid() ? { importId: request.getImportid() } : {}),
      });
      const state = await serializeProperties(`npsmfa engine ${urn}`, result.outputs);
      monitor.resources.set(urn, { urn, id: result.id ?? null, state });
      const response = new resourceProto.RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(result.id ?? "");
      response.setObject(Struct.fromJavaScript(state));
      callback(null, response);
    } catch (error) {
      callback(error);
    }
  };
  const { config, secretKeys } = stackConfigText(stack);
  pulumi.runtime.setAllConfig(config, [...secretKeys]);
  runtimeStore().terminated = false;
  // A registration that fails inside the SDK (an unserializable provider, a throwing apply) surfaces
  // only as an unhandled rejection; the CLI's language host fails the run on those, and so do we.
  const errors: unknown[] = [];
  const collect = (reason: unknown) => errors.push(reason);
  process.on("unhandledRejection", collect);
  const run = async () => {
    try {
      await program();
    } catch (error) {
      errors.push(error);
    } finally {
      await waitForRegistrations();
    }
  };
  let wasCancelled = false;
  void cancelled.then(() => (wasCancelled = true));
  try {
    await Promise.race([run(), cancelled]);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off("unhandledRejection", collect);
  }
  if (wasCancelled) abandonProgram();
  return errors;
}

// Internal to the SDK (absent from its typings): the runtime's per-process state.
const runtimeStore = () => (runtimeState as unknown as { getStore(): { terminated: boolean } }).getStore();

/**
 * After a cancelled deployment the CLI shuts the language host's monitor down, and the runtime then stays
 * quiet about the registrations still pending (runtime/settings.ts terminateRpcs sets `terminated`;
 * runtime/debuggable.ts reports no leaks once it is set). Here the program's process is ours and lives on:
 * mark its monitor terminated too, or the abandoned registrations are reported as "Leaving promises
 * active" when the process exits. Each command starts unterminated, as each CLI command is a new process.
 */
function abandonProgram(): void {
  runtimeStore().terminated = true;
}

/** As the engine names resources: a child's type is qualified by its parent's chain of types. */
function newUrn(parent: string | undefined, type: string, name: string): string {
  const qualifiedType = parent ? `${parent.split("::")[2]}$${type}` : type;
  return `urn:pulumi:${stackName}::${project}::${qualifiedType}::${name}`;
}
