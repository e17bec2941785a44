// The demo on the real thing: the Pulumi CLI, driven through the Automation API, on a stack `demo` of this
// project kept in a local file backend inside the demo's temporary folder. Thin, and not exercised by our
// tests (our machines have no Pulumi CLI): the story, its checks and the lab are the same for both drivers.
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { EngineEvent, LocalWorkspace, StepEventMetadata } from "@pulumi/pulumi/automation";
import type { ProgressEvent, ProgressListener } from "../engine";
import { secondsSince, type ProgressPhase } from "../engine/progress";
import { containsUnknown } from "../engine/wire";
import { configNamespace } from "../config/keys";
import { labSecretKeys, labStackSettings, LabDescription } from "../lab/stackFiles";
import type { ResourceChange } from "./describe";
import type { DemoDriver } from "./driver";

const stackName = "demo";

export async function startPulumiCliDriver(
  lab: LabDescription,
  projectDir: string,
  workDir: string,
): Promise<DemoDriver> {
  // A Pulumi.demo.yaml the person already had is theirs: only the file this run writes is removed at stop.
  const settingsFile = path.join(projectDir, `Pulumi.${stackName}.yaml`);
  const settingsFileWasThere = fs.existsSync(settingsFile);
  const backend = path.join(workDir, "pulumi-state");
  fs.mkdirSync(backend, { recursive: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, workDir: projectDir },
    // The passphrase only guards this throwaway stack's secrets, as the README's lab does.
    { envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "demo" } },
  );
  const config = Object.fromEntries(
    Object.entries(labStackSettings(lab, true)).map(([key, value]) => [
      key,
      {
        value: typeof value === "string" ? value : JSON.stringify(value),
        secret: labSecretKeys.includes(key.slice(configNamespace.length + 1)),
      },
    ]),
  );
  await stack.setAllConfig(config);
  const messages: string[] = [];
  const onDiagnostic = (event: EngineEvent) => {
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && diagnostic.severity !== "info#err")
      messages.push(`${diagnostic.severity}: ${diagnostic.message}`);
  };
  // `pulumi preview --refresh` and `pulumi up --refresh` report the same events: one handler for both.
  const run = async (operation: "preview" | "update", progress?: ProgressListener) => {
    const changes: ResourceChange[] = [];
    const started = new Map<string, number>();
    const onEvent = (event: EngineEvent) => {
      onDiagnostic(event);
      const pre = event.resourcePreEvent?.metadata;
      const done = event.resOutputsEvent?.metadata;
      const failed = event.resOpFailedEvent?.metadata;
      if (pre) {
        started.set(`${pre.op}:${pre.urn}`, performance.now());
        if (progress) report(progress, operation, pre, "started");
      }
      if (done && progress) report(progress, operation, done, "done", started.get(`${done.op}:${done.urn}`));
      if (failed && progress)
        report(progress, operation, failed, "failed", started.get(`${failed.op}:${failed.urn}`));
      // A preview's plan is complete when each step starts; an update's outcome when it is done.
      const change = operation === "preview" ? pre : done;
      if (change && change.op !== "refresh") changes.push(changeOf(change));
    };
    const options = { refresh: true, color: "never" as const, onEvent };
    if (operation === "preview") await stack.preview(options);
    else await stack.up(options);
    return changes;
  };
  return {
    description: `engine: the Pulumi CLI (Automation API), stack ${stackName} in a local backend at ${backend}`,
    preview: (progress) => run("preview", progress),
    up: (progress) => run("update", progress),
    providerMessages: () => messages.join("\n"),
    async stop() {
      // The stack's settings file is written into the project by the Automation API; the demo's stack is throwaway.
      if (!settingsFileWasThere) fs.rmSync(settingsFile, { force: true });
    },
  };
}

function report(
  progress: ProgressListener,
  operation: "preview" | "update",
  metadata: StepEventMetadata,
  kind: ProgressEvent["kind"],
  startedAt?: number,
): void {
  const seconds = startedAt === undefined ? undefined : secondsSince(startedAt);
  progress({
    kind,
    phase: phaseOf(operation, metadata.op),
    urn: metadata.urn,
    type: metadata.type,
    name: metadata.urn.split("::").pop() ?? metadata.urn,
    // The pre-event already carries the planned operation, as our engine's started event does.
    ...(kind === "failed" ? {} : { op: metadata.op === "refresh" ? "same" : metadata.op }),
    ...(seconds === undefined ? {} : { seconds }),
  });
}

/** The phase our progress printer shows a step in: a refresh's read, or the operation's own step. */
function phaseOf(operation: "preview" | "update", op: string): ProgressPhase {
  if (op === "refresh") return "refresh";
  if (operation === "preview") return "preview";
  return op === "delete" ? "delete" : "update";
}

/** One step of a CLI engine event as the story describes it. Exported for its test. */
export function changeOf(metadata: StepEventMetadata): ResourceChange {
  return {
    name: metadata.urn.split("::").pop() ?? metadata.urn,
    type: metadata.type,
    op: metadata.op,
    properties: metadata.diffs ?? [],
    // An input known only after apply arrives as the engine's placeholder for a computed value, the same
    // text the SDK's unknownValue is (computedValuePlaceholder, pulumi pkg/resource/stack/deployment.go).
    unknown: (metadata.diffs ?? []).filter((property) => containsUnknown(metadata.new?.inputs?.[property])),
    ...(metadata.old ? { old: { inputs: metadata.old.inputs, outputs: metadata.old.outputs } } : {}),
    ...(metadata.new ? { new: { inputs: metadata.new.inputs } } : {}),
  };
}
