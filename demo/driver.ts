// What the demo needs from an engine: `pulumi preview --refresh` and `pulumi up --refresh` on the lab's
// stack, with per-resource progress, and the messages the providers told the operator. Two drivers: the
// Pulumi CLI through the Automation API where it is installed, our engine (engine/) where it is not.
import type { ProgressListener } from "../engine";
import type { ResourceChange } from "./describe";

export interface DemoDriver {
  /** The demo's first line: which engine runs the program, and where. */
  readonly description: string;
  /** `pulumi preview --refresh`: every resource, with the live and declared values of a change. */
  preview(progress?: ProgressListener): Promise<ResourceChange[]>;
  /** `pulumi up --refresh`: every resource's step, progress reported as each starts and ends. */
  up(progress: ProgressListener): Promise<ResourceChange[]>;
  /** What the providers told the operator so far (warnings such as a resource forgotten), as text. */
  providerMessages(): string;
  stop(): Promise<void>;
}
