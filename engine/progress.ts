// Per-resource progress of an operation, as the CLI shows it while it runs: a step started, then was done
// (with what it turned out to be) or failed, and how long it took. Only custom resources report: a
// component's step does no provider work. A listener that throws never disturbs the deployment.
import { performance } from "node:perf_hooks";

export type ProgressPhase = "refresh" | "preview" | "update" | "delete";

export interface ProgressEvent {
  kind: "started" | "done" | "failed";
  phase: ProgressPhase;
  urn: string;
  type: string;
  name: string;
  /**
   * done: the step's operation (`same`, `create`, `update`, `replace`, `delete`); started: the operation
   * planned, where the step is reported once planned (the CLI's resource pre-event carries it too).
   */
  op?: string;
  /** done and failed: seconds since started. */
  seconds?: number;
  /** failed: the error's message. */
  error?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

export interface ProgressSubject {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
}

/** Seconds since `started` (a performance.now() reading), to a tenth: what progress lines and reports show. */
export function secondsSince(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}

/**
 * Runs one step of a resource, reporting its start and its end; `opOf` says what the step turned out to be.
 * With `startsWhenPlanned`, the start is reported when `run` calls `planned` with the operation it chose
 * (so a listener can leave unchanged resources out), or at its end if it never does.
 */
export async function reportStep<T>(
  listener: ProgressListener | undefined,
  phase: ProgressPhase,
  subject: ProgressSubject,
  run: (planned: (op: string) => void) => Promise<T>,
  opOf: (result: T) => string,
  startsWhenPlanned = false,
): Promise<T> {
  if (!listener || !subject.custom) return run(() => undefined);
  const { urn, type, name } = subject;
  const emit = (event: Omit<ProgressEvent, "phase" | "urn" | "type" | "name">) => {
    try {
      listener({ phase, urn, type, name, ...event });
    } catch {
      // Progress is for people watching; a failing printer must not fail a deployment.
    }
  };
  const started = performance.now();
  const seconds = () => secondsSince(started);
  let hasStarted = false;
  const start = (op?: string) => {
    if (hasStarted) return;
    hasStarted = true;
    emit({ kind: "started", ...(op === undefined ? {} : { op }) });
  };
  if (!startsWhenPlanned) start();
  try {
    const result = await run(start);
    start();
    emit({ kind: "done", op: opOf(result), seconds: seconds() });
    return result;
  } catch (error) {
    start();
    emit({
      kind: "failed",
      seconds: seconds(),
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}
