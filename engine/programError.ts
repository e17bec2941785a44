// How Pulumi's Node.js program runner reports an error the program throws or leaves unhandled
// (@pulumi/pulumi 3.248 cmd/run/run.js, the uncaught-exception handler), so that our engine says what a
// CLI user reads: a RunError by its message alone; a TSError or SyntaxError by its message and where it
// is; a ResourceError by its message if it hides its stack; anything else as "Running program '<path>'
// failed with an unhandled exception:" followed by the error as util.inspect shows it, stack included.
import * as fs from "node:fs";
import * as path from "node:path";
import * as util from "node:util";
import { ResourceError, RunError } from "@pulumi/pulumi/errors";

/**
 * cmd/run/error.ts defaultErrorMessage: the error as util.inspect shows it when it has a stack, else its
 * message, else the value as text. The runner asks util.inspect for terminal colours first; we take the
 * plain text: colouring an SDK registration error took Node 20 tens of seconds here, and a report that
 * tests read and a log keeps is better without escape codes.
 */
function defaultErrorMessage(error: unknown): string {
  const value = error as { stack?: unknown; message?: unknown } | null | undefined;
  if (value?.stack) {
    try {
      return util.inspect(error);
    } catch {
      return typeof value.message === "string" ? String(value.stack) : String(error);
    }
  }
  if (value?.message) return String(value.message);
  return String(error);
}

/**
 * The program's path as the runner names it: the project folder, or package.json's `main` in it when that
 * file exists (run.js, resolveEntrypoint), since our Pulumi.yaml sets no `main`.
 */
export function programPath(projectDir: string): string {
  try {
    const main = (
      JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { main?: unknown }
    ).main;
    if (typeof main === "string" && fs.existsSync(path.join(projectDir, main)))
      return path.join(projectDir, main);
  } catch {
    // No package.json, or one that does not parse: the runner then names the folder itself.
  }
  return projectDir;
}

/** The text the runner logs as the error for `error`, thrown by the program at `program`. */
export function programErrorText(error: unknown, program: string): string {
  const unhandled = (detail: string) =>
    `Running program '${program}' failed with an unhandled exception:\n${detail}`;
  if (RunError.isInstance(error)) return (error as Error).message;
  const thrown = error as { name?: unknown; message?: unknown; stack?: unknown } | null | undefined;
  if (thrown?.name === "TSError" || thrown?.name === SyntaxError.name) {
    const message = String(thrown.message);
    const parts = String(thrown.stack ?? "").split(message);
    return unhandled(parts.length === 2 ? parts[0] + message : message);
  }
  if (ResourceError.isInstance(error)) {
    const resourceError = error as ResourceError;
    return resourceError.hideStack ? resourceError.message : defaultErrorMessage(error);
  }
  return unhandled(defaultErrorMessage(error));
}
