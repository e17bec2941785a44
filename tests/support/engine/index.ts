/**
 * A test-only mini engine: runs a Pulumi program the way the CLI would, with no CLI. The program runs
 * under pulumi.runtime.setMocks; every dynamic resource it registers goes over gRPC to Pulumi's own
 * dynamic-provider host (a child process), configured with the stack's config as the engine does it,
 * and the host's real outputs become the resource's state, so outputs flow into other resources' inputs.
 *
 *   const engine = await Engine.start({ stack: { config: { tenantId, npsServers }, secretKeys: ["npsServers"] },
 *                                       program: () => buildProgram(loadStackConfig()) });
 *   let { state, steps } = await engine.up(emptyState());         // create, then same/update/replace/delete
 *   const { changes } = await engine.preview(state, { refresh: true }); // `pulumi preview --refresh`:
 *   //   changes = [{ op: "update", urn, properties: ["value"], ... }]; [] is `--expect-no-changes` passing
 *   ({ state } = await engine.up(state, { refresh: true }));       // `pulumi up --refresh`: repairs drift
 *   ({ state } = await engine.refresh(state));                     // `pulumi refresh`
 *   await engine.destroy(state);                                   // `pulumi destroy`
 *   await engine.stop();                                           // in an after() hook
 *
 * State ({ resources: [...] }) is plain JSON, in registration order (dependencies first), and is never
 * mutated: each operation returns a new one. Step properties name the top-level inputs that changed:
 * the dynamic host's Diff never reports property names (DiffResponse diffs stay empty in 3.248), so
 * they are those whose new value differs from the stored outputs, which is what a provider's diff sees.
 *
 * Like the CLI, up and preview compare with the stored state: drift shows only with { refresh: true }.
 * During a preview, a resource that takes an output of one being created or updated lists that input in
 * `step.unknown` (a change that may turn out to be none). Pass the program as a function such as
 * buildProgram: `require("index.ts")` runs once per process, as Node caches modules.
 *
 * One Engine = one stack config = one host process: the host configures each provider (keyed by its
 * serialized text) once per process and caches it, so a different config needs another Engine.
 * Operations on one Engine must not overlap: the Pulumi runtime's mocks are global.
 */
import { ProviderHost } from "./providerHost";
import { Registration, runUnderMocks, StackSettings, stackConfigText } from "./mockMonitor";
import { changedProperties, containsUnknown, PropertyMap, sameOnWire, secretKeysOf, toWire } from "./wire";

export { StackSettings } from "./mockMonitor";
export { PropertyMap, providerKey } from "./wire";

export interface StateResource {
  urn: string;
  type: string;
  name: string;
  /** False for component resources, which the engine only records. */
  custom: boolean;
  parent?: string;
  dependencies: string[];
  /** "" for components. */
  id: string;
  /** Checked inputs, as the provider got them (secrets unwrapped), including `__provider`. */
  inputs: PropertyMap;
  /** What the provider returned from create/update/read. */
  outputs: PropertyMap;
  /** Top-level inputs the program marked secret (`__provider` is one when the provider captured a secret). */
  secretInputs: string[];
}

export interface EngineState {
  resources: StateResource[];
}

export type StepOp = "create" | "update" | "replace" | "same" | "delete";

export interface Step {
  op: StepOp;
  urn: string;
  type: string;
  name: string;
  /** Top-level properties that changed (sorted); [] for create, same and delete. */
  properties: string[];
  /** Properties the provider's diff says force a replacement. */
  replaces: string[];
  /**
   * Preview only: changed properties whose new value is unknown until an earlier resource is applied
   * (an output of a resource being created or updated). The CLI shows them as changes that may be none.
   */
  unknown: string[];
}

export interface OperationResult {
  state: EngineState;
  steps: Step[];
}

export interface PreviewResult {
  steps: Step[];
  /** Every step that is not `same`: empty is what `--expect-no-changes` checks. */
  changes: Step[];
}

export interface RunOptions {
  /** Refresh first, as `--refresh` does (a preview does not keep the refreshed state). */
  refresh?: boolean;
  /** Run this program instead of the Engine's (for example one that no longer registers a resource). */
  program?: () => unknown;
}

/** Thrown when a provider call fails; `state` holds what was done before, as the CLI would save it. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly state: EngineState,
  ) {
    super(message);
  }
}

export function emptyState(): EngineState {
  return { resources: [] };
}

const dynamicTypePrefix = "pulumi-nodejs:dynamic";

interface Plan {
  op: Exclude<StepOp, "delete">;
  inputs: PropertyMap;
  properties: string[];
  replaces: string[];
  unknown: string[];
  deleteBeforeReplace: boolean;
}

interface Applied {
  resource: StateResource;
  step: Step;
  /** A replaced resource to delete once the run is over (create before delete). */
  replaced?: StateResource;
}

export class Engine {
  private constructor(
    private readonly host: ProviderHost,
    private readonly stack: StackSettings,
    private readonly program: () => unknown,
  ) {}

  /** Starts the host and configures it with the stack's config. `program` is the default for up and preview. */
  static async start(options: { stack: StackSettings; program?: () => unknown }): Promise<Engine> {
    const host = await ProviderHost.start();
    try {
      const { config, secretKeys } = stackConfigText(options.stack);
      await host.configure(config, secretKeys);
    } catch (error) {
      await host.stop();
      throw error;
    }
    const program =
      options.program ??
      (() => {
        throw new Error("engine harness: no program given to Engine.start nor to this operation");
      });
    return new Engine(host, options.stack, program);
  }

  /** Stops the host process. Call it in an after() hook. */
  async stop(): Promise<void> {
    await this.host.stop();
  }

  /** What the host process wrote to stderr: providers' console output and the host's error reports. */
  get hostLog(): string {
    return this.host.log;
  }

  /** `pulumi up`: create, update, replace or keep each registered resource, then delete the ones left out. */
  async up(state: EngineState, options: RunOptions = {}): Promise<OperationResult> {
    const base = options.refresh ? (await this.refresh(state)).state : state;
    const olds = byUrn(base);
    const order: string[] = [];
    const applied = new Map<string, Applied>();
    const failures: string[] = [];
    const errors = await runUnderMocks(
      this.stack,
      false,
      options.program ?? this.program,
      async (registration) => {
        claim(order, registration.urn);
        try {
          const result = await this.apply(registration, olds.get(registration.urn));
          applied.set(registration.urn, result);
          return { id: result.resource.id || undefined, outputs: result.resource.outputs };
        } catch (error) {
          failures.push(`${registration.urn}: ${messageOf(error)}`);
          throw error;
        }
      },
    );
    const registered = order.flatMap((urn) => applied.get(urn)?.resource ?? []);
    if (failures.length > 0 || errors.length > 0) {
      const untouched = base.resources.filter((old) => !applied.has(old.urn));
      throw new EngineError(failureMessage("up", failures, errors), snapshot([...registered, ...untouched]));
    }
    const steps = order.map((urn) => applied.get(urn)!.step);
    const leftOut = base.resources.filter((old) => !applied.has(old.urn));
    const replaced = order.flatMap((urn) => applied.get(urn)?.replaced ?? []);
    for (const old of [...leftOut, ...replaced].reverse()) {
      await this.delete(old);
      if (!applied.has(old.urn)) steps.push(stepOf("delete", old));
    }
    return { state: snapshot(registered), steps };
  }

  /** `pulumi preview` (with `refresh`: `pulumi preview --refresh`): Check and Diff only, nothing written. */
  async preview(state: EngineState, options: RunOptions = {}): Promise<PreviewResult> {
    const base = options.refresh ? (await this.refresh(state)).state : state;
    const olds = byUrn(base);
    const order: string[] = [];
    const planned = new Map<string, Step>();
    const failures: string[] = [];
    const errors = await runUnderMocks(
      this.stack,
      true,
      options.program ?? this.program,
      async (registration) => {
        claim(order, registration.urn);
        const old = olds.get(registration.urn);
        try {
          const plan = await this.plan(registration, old);
          planned.set(registration.urn, { ...stepOf(plan.op, registration), ...stepDetails(plan) });
          // As in a real preview: a resource to be created or updated has only its inputs; other outputs are unknown.
          if (plan.op === "same" && old) return { id: old.id || undefined, outputs: old.outputs };
          return { id: plan.op === "update" ? old?.id : undefined, outputs: plan.inputs };
        } catch (error) {
          failures.push(`${registration.urn}: ${messageOf(error)}`);
          throw error;
        }
      },
    );
    if (failures.length > 0 || errors.length > 0)
      throw new EngineError(failureMessage("preview", failures, errors), state);
    const steps = order.map((urn) => planned.get(urn)!);
    for (const old of [...base.resources].reverse()) {
      if (!planned.has(old.urn)) steps.push(stepOf("delete", old));
    }
    return { steps, changes: steps.filter((step) => step.op !== "same") };
  }

  /**
   * `pulumi refresh`: Read every resource and keep what is live. A step is `update` when the live
   * outputs differ (properties name them) and `delete` when the provider no longer finds the resource.
   */
  async refresh(state: EngineState): Promise<OperationResult> {
    const resources: StateResource[] = [];
    const steps: Step[] = [];
    for (const old of state.resources) {
      if (!old.custom) {
        resources.push(old);
        steps.push(stepOf("same", old));
        continue;
      }
      const live = await this.host.read(old.urn, old.id, old.outputs, old.inputs);
      if (!live.id) {
        steps.push(stepOf("delete", old));
        continue;
      }
      resources.push({ ...old, id: live.id, outputs: live.outputs, inputs: live.inputs ?? old.inputs });
      const properties = changedProperties(old.outputs, {}, live.outputs);
      steps.push({ ...stepOf(properties.length > 0 ? "update" : "same", old), properties });
    }
    return { state: snapshot(resources), steps };
  }

  /** `pulumi destroy`: Delete every resource, dependents first. */
  async destroy(state: EngineState): Promise<OperationResult> {
    const steps: Step[] = [];
    for (const old of [...state.resources].reverse()) {
      await this.delete(old);
      steps.push(stepOf("delete", old));
    }
    return { state: emptyState(), steps };
  }

  private async apply(registration: Registration, old: StateResource | undefined): Promise<Applied> {
    const plan = await this.plan(registration, old);
    const resource: StateResource = {
      urn: registration.urn,
      type: registration.type,
      name: registration.name,
      custom: registration.custom,
      ...(registration.parent ? { parent: registration.parent } : {}),
      dependencies: registration.dependencies,
      id: old?.id ?? "",
      inputs: plan.inputs,
      outputs: old?.outputs ?? plan.inputs,
      secretInputs: secretKeysOf(registration.inputs),
    };
    const step: Step = { ...stepOf(plan.op, registration), ...stepDetails(plan) };
    if (!registration.custom) return { resource: { ...resource, outputs: plan.inputs }, step };
    if (plan.op === "update") {
      resource.outputs = await this.host.update(
        registration.urn,
        resource.id,
        old!.outputs,
        old!.inputs,
        plan.inputs,
      );
    }
    if (plan.op === "replace" && plan.deleteBeforeReplace) await this.delete(old!);
    if (plan.op === "create" || plan.op === "replace") {
      Object.assign(resource, await this.host.create(registration.urn, plan.inputs));
    }
    const replaced = plan.op === "replace" && !plan.deleteBeforeReplace ? old : undefined;
    return { resource, step, ...(replaced ? { replaced } : {}) };
  }

  /** Check, then Diff against the old state, as the engine decides a step. */
  private async plan(registration: Registration, old: StateResource | undefined): Promise<Plan> {
    const news = toWire(registration.inputs) as PropertyMap;
    const unchanged = { properties: [], replaces: [], unknown: [], deleteBeforeReplace: false };
    if (!registration.custom) return { op: old ? "same" : "create", inputs: news, ...unchanged };
    if (
      !registration.type.startsWith(`${dynamicTypePrefix}:`) &&
      !registration.type.startsWith(`${dynamicTypePrefix}/`)
    ) {
      throw new Error(
        `${registration.type} is not a dynamic resource: this harness drives only Pulumi's dynamic-provider host`,
      );
    }
    const checked = await this.host.check(registration.urn, old?.inputs ?? {}, news);
    if (checked.failures.length > 0) throw new Error(`check failed: ${checked.failures.join("; ")}`);
    if (!old) return { op: "create", inputs: checked.inputs, ...unchanged };
    const diff = await this.host.diff(registration.urn, old.id, old.outputs, old.inputs, checked.inputs);
    // DIFF_UNKNOWN (a provider without diff): the engine falls back to comparing old and new inputs.
    const changed =
      diff.changes === "some" || (diff.changes === "unknown" && !sameOnWire(old.inputs, checked.inputs));
    if (!changed) return { op: "same", inputs: checked.inputs, ...unchanged };
    const properties =
      diff.diffs.length > 0
        ? [...diff.diffs].sort()
        : changedProperties(old.outputs, old.inputs, checked.inputs);
    return {
      op: diff.replaces.length > 0 ? "replace" : "update",
      inputs: checked.inputs,
      properties,
      replaces: [...diff.replaces].sort(),
      unknown: properties.filter((property) => containsUnknown(checked.inputs[property])),
      deleteBeforeReplace: diff.deleteBeforeReplace,
    };
  }

  private async delete(resource: StateResource): Promise<void> {
    if (resource.custom) await this.host.delete(resource.urn, resource.id, resource.outputs, resource.inputs);
  }
}

function byUrn(state: EngineState): Map<string, StateResource> {
  return new Map(state.resources.map((resource) => [resource.urn, resource]));
}

function claim(order: string[], urn: string): void {
  if (order.includes(urn)) throw new Error(`${urn} registered twice: two resources of one type share a name`);
  order.push(urn);
}

function stepOf(op: StepOp, resource: { urn: string; type: string; name: string }): Step {
  return {
    op,
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    properties: [],
    replaces: [],
    unknown: [],
  };
}

function stepDetails(plan: Plan): Pick<Step, "properties" | "replaces" | "unknown"> {
  return { properties: plan.properties, replaces: plan.replaces, unknown: plan.unknown };
}

/** A JSON copy: the state the caller keeps shares nothing with the next operation's. */
function snapshot(resources: StateResource[]): EngineState {
  return JSON.parse(JSON.stringify({ resources })) as EngineState;
}

/** Provider failures by URN first, then the program's own errors not already among them. */
function failureMessage(operation: string, failures: string[], errors: unknown[]): string {
  const lines = [...failures];
  for (const error of errors) {
    const message = messageOf(error);
    if (!failures.some((failure) => failure.endsWith(message))) lines.push(message);
  }
  return `${operation} failed:\n${[...new Set(lines)].join("\n")}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
