/**
 * A small local engine: runs a Pulumi program the way the CLI would, with no CLI, and no kinder than
 * Pulumi 3.248's own engine where our resources can tell. The tests drive the product through it, and
 * `npm run demo` uses it where no Pulumi CLI is installed. The program runs under pulumi.runtime.setMocks;
 * every dynamic resource it registers goes over gRPC to Pulumi's own dynamic-provider host (a child
 * process) and the host's real outputs become the resource's state, so outputs flow into other inputs.
 *
 *   const engine = await Engine.start({ stack: { config: { tenantId, npsServers }, secretKeys: ["npsServers"] },
 *                                       program: () => buildProgram(loadStackConfig()) });
 *   let { state, steps } = await engine.up(emptyState());           // `pulumi up`
 *   const { changes } = await engine.preview(state, { refresh: true }); // `pulumi preview --refresh`:
 *   //   changes = [{ op: "update", urn, properties: ["value"], ... }]; [] is `--expect-no-changes` passing
 *   ({ state } = await engine.up(state, { refresh: true }));         // `pulumi up --refresh`
 *   ({ state } = await engine.refresh(state));                       // `pulumi refresh`
 *   engine.setStackConfig(next);                                     // `pulumi config set ...`
 *   await engine.import(state, { type, name, id });                  // `pulumi import` (fails: see import)
 *   await engine.destroy(state);                                     // `pulumi destroy`
 *
 * Where it is as strict as the engine, with the source file that says so:
 * - every command starts its own dynamic-provider host processes and stops them at its end: nothing a
 *   provider keeps in memory survives from one command to the next (the CLI is a new process each time);
 * - `up` and `preview` configure the provider with the current stack config; `refresh` (also the refresh
 *   that `--refresh` runs first) and `destroy` with the config saved in state at the last `up`
 *   (pkg/resource/deploy/deployment_executor.go, refresh: EnsureProvider; providers/registry.go, Same);
 * - refresh reads every resource in state, all at once (deployment_executor.go: ExecuteParallel), and
 *   classifies each through the provider's Diff with the refreshed inputs and outputs as olds and the
 *   stored inputs as news (step.go, RefreshStep.Apply); an empty id drops the resource;
 * - `preview --refresh` keeps nothing it read; `up --refresh` saves it;
 * - a step reports the top-level inputs that differ between old and new inputs, as the CLI shows them for
 *   a provider that returns no detailed diff (the dynamic host never does);
 * - a failed step ends the operation: steps in flight finish, nothing else starts, dependents fail
 *   (deployment_executor.go: the step executor's error cancels the deployment);
 * - deletes (of `destroy`, and of resources `up` no longer sees) run in parallel, dependents first
 *   (step_generator.go, ScheduleDeletes: antichains);
 * - import reads with no stored state (step.go, ImportStep.Apply: Read with the ID alone).
 *
 * State ({ resources: [...], provider }) is plain JSON, resources in registration order (dependencies
 * first), never mutated: each operation returns a new one. Operations on one Engine must not overlap: the
 * Pulumi runtime's mocks are global. Pass the program as a function such as buildProgram:
 * `require("index.ts")` runs once per process, as Node caches modules.
 */
import * as path from "node:path";
import { ProviderHost } from "./providerHost";
import { Registration, runUnderMocks, StackSettings } from "./mockMonitor";
import { SecretsManager, StoredProvider } from "./storedProvider";
import {
  changedProperties,
  containsUnknown,
  PropertyMap,
  providerKey,
  sameOnWire,
  secretKeysOf,
  toWire,
} from "./wire";
import { isDynamicType } from "../providers/resourceTypes";
import { ProgressListener, reportStep } from "./progress";
import { programErrorText, programPath } from "./programError";

export { StackSettings } from "./mockMonitor";
export { StoredProvider } from "./storedProvider";
export { ProgressEvent, ProgressListener, ProgressPhase } from "./progress";
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
  /** The default dynamic provider's inputs saved by the last `up`: what refresh and destroy configure it with. */
  provider?: StoredProvider;
}

export type StepOp = "create" | "update" | "replace" | "same" | "delete";

export interface Step {
  op: StepOp;
  urn: string;
  type: string;
  name: string;
  /** Top-level inputs that differ between old and new inputs (sorted); [] for create, same and delete. */
  properties: string[];
  /** Properties the provider's diff says force a replacement. */
  replaces: string[];
  /**
   * Preview only: changed properties whose new value is unknown until an earlier resource is applied
   * (an output of a resource being created or updated). The CLI shows them as changes that may be none.
   */
  unknown: string[];
  /**
   * Up and preview, for a step that changes something: the state before (after a refresh, what was read
   * live) and the declared inputs, as the CLI's step events carry them (automation/events.ts,
   * StepEventMetadata), so a person can be shown values, not only property names. Secret inputs read
   * `[secret]`; the serialized provider is left out.
   */
  old?: { inputs: PropertyMap; outputs: PropertyMap };
  new?: { inputs: PropertyMap };
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

export interface ImportRequest {
  type: string;
  name: string;
  /** The ID the provider is asked to read, as a person writes it on the command line. */
  id: string;
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

const repoRoot = path.resolve(__dirname, "..");

interface Plan {
  op: Exclude<StepOp, "delete">;
  inputs: PropertyMap;
  properties: string[];
  replaces: string[];
  unknown: string[];
  deleteBeforeReplace: boolean;
  /** Set for an `import` resource option: the ID to read (ImportStep). */
  importId?: string;
}

interface Applied {
  resource: StateResource;
  step: Step;
  /** A replaced resource to delete once the run is over (create before delete). */
  replaced?: StateResource;
}

/**
 * A deployment's cancellation after a failed step (deployment_executor.go, Execute: the step executor's
 * error cancels the context and the main loop returns): once a step failed, nothing new starts, and the
 * operation ends when the steps in flight are done, without waiting for registrations that depend on
 * the failed resource, which never complete.
 */
class Cancellation {
  readonly failures: string[] = [];
  private inFlight = 0;
  private end!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.end = resolve));

  /** Runs one step unless the deployment failed already; records its failure. */
  async step<T>(urn: string, operation: string, run: () => Promise<T>): Promise<T> {
    if (this.failures.length > 0) throw new Error(`${urn}: not run, the ${operation} failed`);
    this.inFlight += 1;
    try {
      return await run();
    } catch (error) {
      this.failures.push(`${urn}: ${messageOf(error)}`);
      throw error;
    } finally {
      this.inFlight -= 1;
      if (this.failures.length > 0 && this.inFlight === 0) this.end();
    }
  }
}

/** The config a host is configured with: the current stack config, or the one saved in state. */
type ProviderSource = { current: true } | { stored: StoredProvider };

export class Engine {
  private readonly secrets = new SecretsManager();
  private readonly logs: string[] = [];
  private readonly running = new Set<ProviderHost>();

  private constructor(
    private stack: StackSettings,
    private readonly program: () => unknown,
    /** The directory the host runs in: where the thin provider seam loads the implementation from. */
    public projectDir: string,
    /** Told when each resource's step starts and ends, in every operation. */
    private readonly progress?: ProgressListener,
  ) {}

  /**
   * `program` is the default for up and preview; `projectDir` the project the hosts run in (default: this
   * repo); `progress` hears each resource's step start and end, as the CLI prints them while it runs.
   */
  static async start(options: {
    stack: StackSettings;
    program?: () => unknown;
    projectDir?: string;
    progress?: ProgressListener;
  }): Promise<Engine> {
    const program =
      options.program ??
      (() => {
        throw new Error("npsmfa engine: no program given to Engine.start nor to this operation");
      });
    return new Engine(options.stack, program, options.projectDir ?? repoRoot, options.progress);
  }

  /** `pulumi config set` / `rm`: the stack config the next up, preview or import uses. */
  setStackConfig(stack: StackSettings): void {
    this.stack = stack;
  }

  get stackConfig(): StackSettings {
    return this.stack;
  }

  /** Stops any host still running (none between operations). Call it in an after() hook. */
  async stop(): Promise<void> {
    await Promise.all([...this.running].map((host) => host.stop()));
  }

  /** What every host process wrote to stderr: providers' console output and the hosts' error reports. */
  get hostLog(): string {
    return this.logs.join("") + [...this.running].map((host) => host.log).join("");
  }

  /** `pulumi up`: create, update, replace or keep each registered resource, then delete the ones left out. */
  async up(state: EngineState, options: RunOptions = {}): Promise<OperationResult> {
    const base = options.refresh ? (await this.refresh(state)).state : state;
    const provider = this.savedProvider(base);
    return this.withHost({ current: true }, async (host) => {
      const olds = byUrn(base);
      const order: string[] = [];
      const applied = new Map<string, Applied>();
      const cancellation = new Cancellation();
      const failures = cancellation.failures;
      const errors = await runUnderMocks(
        this.stack,
        false,
        options.program ?? this.program,
        async (registration) => {
          claim(order, registration.urn);
          return cancellation.step(registration.urn, "update", async () => {
            const result = await reportStep(
              this.progress,
              "update",
              registration,
              (planned) => this.apply(host, registration, olds.get(registration.urn), planned),
              (done) => done.step.op,
              true,
            );
            applied.set(registration.urn, result);
            return { id: result.resource.id || undefined, outputs: result.resource.outputs };
          });
        },
        cancellation.ended,
      );
      const registered = order.flatMap((urn) => applied.get(urn)?.resource ?? []);
      if (failures.length > 0 || errors.length > 0) {
        const untouched = base.resources.filter((old) => !applied.has(old.urn));
        throw new EngineError(
          failureMessage("up", failures, errors, programPath(this.projectDir)),
          snapshot([...registered, ...untouched], provider),
        );
      }
      const steps = order.map((urn) => applied.get(urn)!.step);
      const leftOut = base.resources.filter((old) => !applied.has(old.urn));
      const replaced = order.flatMap((urn) => applied.get(urn)?.replaced ?? []);
      const deleted = await deleteDependentsFirst(host, [...leftOut, ...replaced], this.progress);
      if (deleted.failure) {
        const remaining = [...registered, ...leftOut.filter((old) => !deleted.done.has(old.urn))];
        throw new EngineError(`up failed:\n${deleted.failure}`, snapshot(remaining, provider));
      }
      for (const old of [...leftOut].reverse()) steps.push(stepOf("delete", old));
      return { state: snapshot(registered, provider), steps };
    });
  }

  /** `pulumi preview` (with `refresh`: `pulumi preview --refresh`): Check and Diff only, nothing written. */
  async preview(state: EngineState, options: RunOptions = {}): Promise<PreviewResult> {
    const base = options.refresh ? (await this.refresh(state)).state : state;
    return this.withHost({ current: true }, async (host) => {
      const olds = byUrn(base);
      const order: string[] = [];
      const planned = new Map<string, Step>();
      const cancellation = new Cancellation();
      const failures = cancellation.failures;
      const errors = await runUnderMocks(
        this.stack,
        true,
        options.program ?? this.program,
        async (registration) => {
          claim(order, registration.urn);
          const old = olds.get(registration.urn);
          return cancellation.step(registration.urn, "preview", async () => {
            const plan = await reportStep(
              this.progress,
              "preview",
              registration,
              () => this.plan(host, registration, old),
              (planned) => planned.op,
            );
            planned.set(registration.urn, {
              ...stepOf(plan.op, registration),
              ...stepDetails(plan),
              ...stepValues(plan, registration, old),
            });
            // As in a real preview: a resource to be created or updated has only its inputs; other outputs are unknown.
            if (plan.op === "same" && old) return { id: old.id || undefined, outputs: old.outputs };
            return { id: plan.op === "update" ? old?.id : undefined, outputs: plan.inputs };
          });
        },
        cancellation.ended,
      );
      if (failures.length > 0 || errors.length > 0)
        throw new EngineError(
          failureMessage("preview", failures, errors, programPath(this.projectDir)),
          state,
        );
      const steps = order.map((urn) => planned.get(urn)!);
      for (const old of [...base.resources].reverse()) {
        if (!planned.has(old.urn)) steps.push(stepOf("delete", old));
      }
      return { steps, changes: steps.filter((step) => step.op !== "same") };
    });
  }

  /**
   * `pulumi refresh`: Read every resource in state, in parallel, with the provider configured from the
   * config saved in state. `update` when the provider's Diff of the live values against the stored inputs
   * finds changes, `delete` when the provider no longer finds the resource (step.go, RefreshStep).
   */
  async refresh(state: EngineState): Promise<OperationResult> {
    if (!state.resources.some((resource) => resource.custom))
      return { state, steps: state.resources.map((r) => stepOf("same", r)) };
    if (!state.provider)
      throw new Error("npsmfa engine: the state has resources but no saved provider config");
    return this.withHost({ stored: state.provider }, async (host) => {
      const outcomes = await Promise.allSettled(
        state.resources.map((old) =>
          reportStep(
            this.progress,
            "refresh",
            old,
            () => refreshOne(host, old),
            (refreshed) => refreshed.step.op,
          ),
        ),
      );
      const resources: StateResource[] = [];
      const steps: Step[] = [];
      const failures: string[] = [];
      outcomes.forEach((outcome, index) => {
        const old = state.resources[index];
        if (outcome.status === "rejected") {
          failures.push(`${old.urn}: ${messageOf(outcome.reason)}`);
          resources.push(old);
          return;
        }
        if (outcome.value.resource) resources.push(outcome.value.resource);
        steps.push(outcome.value.step);
      });
      const next = snapshot(resources, state.provider);
      if (failures.length > 0) throw new EngineError(`refresh failed:\n${failures.join("\n")}`, next);
      return { state: next, steps };
    });
  }

  /** `pulumi destroy`: Delete every resource, dependents first, in parallel where none depends on another. */
  async destroy(state: EngineState): Promise<OperationResult> {
    if (!state.resources.some((resource) => resource.custom)) {
      return { state: emptyState(), steps: [...state.resources].reverse().map((r) => stepOf("delete", r)) };
    }
    if (!state.provider)
      throw new Error("npsmfa engine: the state has resources but no saved provider config");
    return this.withHost({ stored: state.provider }, async (host) => {
      const deleted = await deleteDependentsFirst(host, state.resources, this.progress);
      if (deleted.failure) {
        const remaining = state.resources.filter((resource) => !deleted.done.has(resource.urn));
        throw new EngineError(`destroy failed:\n${deleted.failure}`, snapshot(remaining, state.provider));
      }
      return { state: emptyState(), steps: [...state.resources].reverse().map((r) => stepOf("delete", r)) };
    });
  }

  /**
   * `pulumi import <type> <name> <id>`: Read with the ID alone, no stored inputs or outputs (step.go,
   * ImportStep.Apply), with the provider configured from the current stack config. Fails, as the CLI does,
   * when the provider returns no outputs (no such resource) or no inputs (import not supported).
   */
  async import(state: EngineState, request: ImportRequest): Promise<OperationResult> {
    const urn = `urn:pulumi:test::npsmfa::${request.type}::${request.name}`;
    if (state.resources.some((resource) => resource.urn === urn))
      throw new EngineError(`import failed: resource '${urn}' already exists`, state);
    const provider = this.secrets.store(this.stack);
    return this.withHost({ current: true }, async (host) => {
      const resource = await importRead(host, urn, request.type, request.name, request.id).catch((error) => {
        throw new EngineError(`import failed:\n${urn}: ${messageOf(error)}`, state);
      });
      return {
        state: snapshot([...state.resources, resource], provider),
        steps: [{ ...stepOf("create", resource) }],
      };
    });
  }

  /** The provider inputs an `up` saves: the stored ones when the config is unchanged (a `same` provider step). */
  private savedProvider(base: EngineState): StoredProvider {
    const current = this.secrets.store(this.stack);
    if (!base.provider) return current;
    const stored = this.secrets.load(base.provider);
    const now = this.secrets.load(current);
    const same =
      sameOnWire(stored.config, now.config) && sameOnWire([...stored.secretKeys], [...now.secretKeys]);
    return same ? base.provider : current;
  }

  /** One host process for one command, configured from the current or the saved config, stopped at the end. */
  private async withHost<T>(source: ProviderSource, run: (host: ProviderHost) => Promise<T>): Promise<T> {
    const host = await ProviderHost.start(this.projectDir);
    this.running.add(host);
    try {
      const { config, secretKeys } =
        "stored" in source
          ? this.secrets.load(source.stored)
          : this.secrets.load(this.secrets.store(this.stack));
      await host.configure(config, secretKeys);
      return await run(host);
    } finally {
      this.running.delete(host);
      await host.stop();
      this.logs.push(host.log);
    }
  }

  private async apply(
    host: ProviderHost,
    registration: Registration,
    old: StateResource | undefined,
    /** Told the step's operation once it is planned, before any provider write. */
    planned: (op: StepOp) => void = () => undefined,
  ): Promise<Applied> {
    const plan = await this.plan(host, registration, old);
    planned(plan.op);
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
    const step: Step = {
      ...stepOf(plan.op, registration),
      ...stepDetails(plan),
      ...stepValues(plan, registration, old),
    };
    if (!registration.custom) return { resource: { ...resource, outputs: plan.inputs }, step };
    if (plan.importId !== undefined) {
      const imported = await importRead(
        host,
        registration.urn,
        registration.type,
        registration.name,
        plan.importId,
      );
      return { resource: { ...resource, id: imported.id, outputs: imported.outputs }, step };
    }
    if (plan.op === "update") {
      resource.outputs = await host.update(
        registration.urn,
        resource.id,
        old!.outputs,
        old!.inputs,
        plan.inputs,
      );
    }
    if (plan.op === "replace" && plan.deleteBeforeReplace)
      await host.delete(old!.urn, old!.id, old!.outputs, old!.inputs);
    if (plan.op === "create" || plan.op === "replace") {
      Object.assign(resource, await host.create(registration.urn, plan.inputs));
    }
    const replaced = plan.op === "replace" && !plan.deleteBeforeReplace ? old : undefined;
    return { resource, step, ...(replaced ? { replaced } : {}) };
  }

  /** Check, then Diff against the old state, as the engine decides a step. */
  private async plan(
    host: ProviderHost,
    registration: Registration,
    old: StateResource | undefined,
  ): Promise<Plan> {
    const news = toWire(registration.inputs) as PropertyMap;
    const unchanged = { properties: [], replaces: [], unknown: [], deleteBeforeReplace: false };
    if (!registration.custom) return { op: old ? "same" : "create", inputs: news, ...unchanged };
    if (!isDynamicType(registration.type)) {
      throw new Error(
        `${registration.type} is not a dynamic resource: this engine drives only Pulumi's dynamic-provider host`,
      );
    }
    const checked = await host.check(registration.urn, old?.inputs ?? {}, news);
    if (checked.failures.length > 0) throw new Error(`check failed: ${checked.failures.join("; ")}`);
    if (!old) {
      // The `import` resource option on a resource not yet in state: an ImportStep (step_generator.go).
      if (registration.importId)
        return { op: "create", inputs: checked.inputs, ...unchanged, importId: registration.importId };
      return { op: "create", inputs: checked.inputs, ...unchanged };
    }
    const diff = await host.diff(registration.urn, old.id, old.outputs, old.inputs, checked.inputs);
    // DIFF_UNKNOWN (a provider without diff): the engine compares old and new inputs (step_generator.go, diffResource).
    const changed =
      diff.changes === "some" || (diff.changes === "unknown" && !sameOnWire(old.inputs, checked.inputs));
    if (!changed) return { op: "same", inputs: checked.inputs, ...unchanged };
    const properties =
      diff.diffs.length > 0 ? [...diff.diffs].sort() : changedProperties(old.inputs, checked.inputs);
    return {
      op: diff.replaces.length > 0 ? "replace" : "update",
      inputs: checked.inputs,
      properties,
      replaces: [...diff.replaces].sort(),
      unknown: properties.filter((property) => containsUnknown(checked.inputs[property])),
      deleteBeforeReplace: diff.deleteBeforeReplace,
    };
  }
}

/** One RefreshStep: Read with the stored inputs and outputs, then the inverted Diff that classifies it. */
async function refreshOne(
  host: ProviderHost,
  old: StateResource,
): Promise<{ resource?: StateResource; step: Step }> {
  // Components (and providers) never change with a refresh (step.go, RefreshStep.Apply).
  if (!old.custom) return { resource: old, step: stepOf("same", old) };
  const live = await host.read(old.urn, old.id, old.outputs, old.inputs);
  if (!live.id) return { step: stepOf("delete", old) };
  const inputs = live.inputs ?? old.inputs;
  const resource = { ...old, id: live.id, inputs, outputs: live.outputs };
  // Refreshed inputs and outputs as olds, stored inputs as news: "the diff a user would see if they
  // immediately ran an `up` on a no-change program after this refresh" (step.go, RefreshStep.Apply).
  const diff = await host.diff(old.urn, live.id, live.outputs, inputs, old.inputs);
  const changed = diff.changes === "some" || (diff.changes === "unknown" && !sameOnWire(inputs, old.inputs));
  if (!changed) return { resource, step: stepOf("same", old) };
  const properties = live.inputs
    ? changedProperties(old.inputs, live.inputs)
    : changedProperties(old.outputs, live.outputs);
  return { resource, step: { ...stepOf("update", old), properties } };
}

/** ImportStep.Apply: a Read with the ID alone; no outputs = no such resource, no inputs = import unsupported. */
async function importRead(
  host: ProviderHost,
  urn: string,
  type: string,
  name: string,
  id: string,
): Promise<StateResource> {
  const read = await host.read(urn, id, {}, {});
  if (!read.id && Object.keys(read.outputs).length === 0) throw new Error(`resource '${id}' does not exist`);
  if (!read.inputs) {
    throw new Error(
      `provider does not support importing resources; please try updating the '${type.split(":")[0]}' plugin`,
    );
  }
  return {
    urn,
    type,
    name,
    custom: true,
    dependencies: [],
    id: read.id || id,
    inputs: read.inputs,
    outputs: read.outputs,
    secretInputs: [],
  };
}

/**
 * Deletes in antichains, as the engine schedules them (step_generator.go, ScheduleDeletes): each round
 * deletes, all at once, the resources no remaining one depends on (by dependency or parent). A failure
 * ends the run after the round in flight.
 */
async function deleteDependentsFirst(
  host: ProviderHost,
  resources: StateResource[],
  progress: ProgressListener | undefined,
): Promise<{ done: Set<string>; failure?: string }> {
  const done = new Set<string>();
  let remaining = [...resources];
  while (remaining.length > 0) {
    const needed = new Set(
      remaining.flatMap((resource) => [
        ...resource.dependencies,
        ...(resource.parent ? [resource.parent] : []),
      ]),
    );
    const round = remaining.filter((resource) => !needed.has(resource.urn));
    const outcomes = await Promise.allSettled(
      round.map(async (resource) => {
        if (resource.custom) {
          await reportStep(
            progress,
            "delete",
            resource,
            () => host.delete(resource.urn, resource.id, resource.outputs, resource.inputs),
            () => "delete",
          );
        }
        done.add(resource.urn);
      }),
    );
    const failures = outcomes.flatMap((outcome, index) =>
      outcome.status === "rejected" ? [`${round[index].urn}: ${messageOf(outcome.reason)}`] : [],
    );
    if (failures.length > 0) return { done, failure: failures.join("\n") };
    remaining = remaining.filter((resource) => !done.has(resource.urn));
  }
  return { done };
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

function stepValues(
  plan: Plan,
  registration: Registration,
  old: StateResource | undefined,
): Pick<Step, "old" | "new"> {
  if (plan.op === "same" || !registration.custom) return {};
  const shown = (properties: PropertyMap, secret: string[]) =>
    Object.fromEntries(
      Object.entries(properties)
        .filter(([key]) => key !== providerKey)
        .map(([key, value]) => [key, secret.includes(key) ? "[secret]" : value]),
    );
  const newSecrets = secretKeysOf(registration.inputs);
  return {
    new: { inputs: shown(plan.inputs, newSecrets) },
    ...(old
      ? {
          old: { inputs: shown(old.inputs, old.secretInputs), outputs: shown(old.outputs, old.secretInputs) },
        }
      : {}),
  };
}

/** A JSON copy: the state the caller keeps shares nothing with the next operation's. */
function snapshot(resources: StateResource[], provider: StoredProvider | undefined): EngineState {
  return JSON.parse(JSON.stringify({ resources, ...(provider ? { provider } : {}) })) as EngineState;
}

/**
 * Provider failures by URN first, then the program's own errors, each once and as Pulumi's program runner
 * reports it (engine/programError.ts). An error that only passes a provider failure on (the SDK's "failed
 * to register new resource" for the failed resource and for each input waiting on it) is left out: the
 * failure is already there, under its resource.
 */
function failureMessage(operation: string, failures: string[], errors: unknown[], program: string): string {
  const lines = [...failures];
  const failed = failures.map((line) => line.slice(line.indexOf(": ") + 2));
  const seen = new Set<string>();
  for (const error of errors) {
    const message = messageOf(error);
    if (seen.has(message) || failed.some((failure) => message.endsWith(failure))) continue;
    seen.add(message);
    lines.push(programErrorText(error, program));
  }
  return `${operation} failed:\n${[...new Set(lines)].join("\n")}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
