// One doctor run on the wire, as `npm run doctor` makes it: the tenant through the stack's Graph client,
// every server over WinRM, then the checks. What the command, the demo and the lab tests share.
import type { StackConfig } from "../config/schema";
import { graphClientFor } from "../remote/graph/client";
import { winrmRunner } from "../remote/windows/winrmRunner";
import type { Finding } from "./checks";
import { diagnose } from "./diagnose";
import { gatherFacts } from "./gather";

/** The events the doctor reads when not told otherwise: those of the last 24 hours. */
export function defaultSince(now: Date): Date {
  return new Date(now.getTime() - 24 * 3_600_000);
}

export interface ExamineOptions {
  /** Events before this are not read. */
  since: Date;
  now?: Date;
  /** --user: the UPN whose sign-in to judge. */
  user?: string;
  progress?(line: string): void;
}

/** Reads the estate (nothing is written) and returns every check's finding, the first failing one the cause. */
export async function examine(config: StackConfig, options: ExamineOptions): Promise<Finding[]> {
  const facts = await gatherFacts(config, {
    graph: graphClientFor(config, { maxRetries: 3 }),
    runnerFor: winrmRunner,
    ...options,
    now: options.now ?? new Date(),
  });
  return diagnose(facts);
}
