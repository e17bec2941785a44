// The demo on our engine: Pulumi's own runtime runs the program in this process and Pulumi's own
// dynamic-provider host runs the providers, as `pulumi` would (docs/engine.md). The stack's state lives
// in memory for the demo's length.
import { startProjectEngine } from "../engine/projectEngine";
import { emptyState, EngineError, EngineState, ProgressListener, Step } from "../engine";
import { labStack, LabDescription } from "../lab/stackFiles";
import type { ResourceChange } from "./describe";
import type { DemoDriver } from "./driver";

export async function startLocalDriver(lab: LabDescription): Promise<DemoDriver> {
  let listener: ProgressListener | undefined;
  const engine = await startProjectEngine(labStack(lab), (event) => listener?.(event));
  let state: EngineState = emptyState();
  const listening = async <T>(progress: ProgressListener | undefined, run: () => Promise<T>): Promise<T> => {
    listener = progress;
    try {
      return await run();
    } finally {
      listener = undefined;
    }
  };
  return {
    description:
      "engine: npsmfa's local engine (no Pulumi CLI on PATH): Pulumi's own runtime and dynamic-provider host",
    preview: (progress) =>
      listening(progress, async () => (await engine.preview(state, { refresh: true })).steps.map(changeOf)),
    up: (progress) =>
      listening(progress, async () => {
        try {
          const result = await engine.up(state, { refresh: true });
          state = result.state;
          return result.steps.map(changeOf);
        } catch (error) {
          // As the CLI's backend does: what was done before the failure is saved.
          if (error instanceof EngineError) state = error.state;
          throw error;
        }
      }),
    providerMessages: () => engine.hostLog,
    stop: () => engine.stop(),
  };
}

function changeOf(step: Step): ResourceChange {
  return {
    name: step.name,
    type: step.type,
    op: step.op,
    properties: step.properties,
    unknown: step.unknown,
    ...(step.old ? { old: step.old } : {}),
    ...(step.new ? { new: step.new } : {}),
  };
}
