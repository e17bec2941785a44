// Live progress lines for an operation, as the CLI prints them while it runs: each of our resources'
// steps that changes something as it starts and ends, with the time since the operation began. Reads (the
// refresh every `--refresh` runs first) are summed up in one line, except those that found drift; steps
// that change nothing are counted, and `finish` says how many ("11 unchanged") once the operation is over.
import { performance } from "node:perf_hooks";
import type { ProgressEvent, ProgressListener } from "../engine";
import { isDynamicType } from "../providers/resourceTypes";

const ours = (event: ProgressEvent) => isDynamicType(event.type);

export interface ProgressPrinter extends ProgressListener {
  /** The operation is over: the line that counts its unchanged resources, if any. */
  finish(): void;
}

export function progressPrinter(say: (line: string) => void, now = () => performance.now()): ProgressPrinter {
  const began = now();
  const reads = { done: 0, drifted: 0, summed: false };
  let unchanged = 0;
  const stamp = () => `[${((now() - began) / 1000).toFixed(1).padStart(6)} s]`;
  const sumReads = () => {
    if (reads.summed || reads.done === 0) return;
    reads.summed = true;
    say(`  ${stamp()} read ${reads.done} resources, ${reads.drifted} drifted`);
  };
  const listener = (event: ProgressEvent) => {
    if (!ours(event)) return;
    if (event.phase === "refresh") {
      if (event.kind === "done") {
        reads.done += 1;
        if (event.op !== "same") {
          reads.drifted += 1;
          say(`  ${stamp()} drifted  ${event.name}`);
        }
      }
      if (event.kind === "failed")
        say(`  ${stamp()} FAILED   read of ${event.name}: ${firstLine(event.error)}`);
      return;
    }
    sumReads();
    if (event.phase === "preview") return;
    // A step planned as `same` writes nothing: counted, not shown.
    if (event.kind === "started" && event.op !== "same")
      say(`  ${stamp()} started  ${event.name}${event.op ? ` (${event.op})` : ""}`);
    if (event.kind === "done") {
      if (event.op === "same") unchanged += 1;
      else say(`  ${stamp()} done     ${event.name}: ${event.op} (${event.seconds} s)`);
    }
    if (event.kind === "failed")
      say(`  ${stamp()} FAILED   ${event.name} after ${event.seconds} s: ${firstLine(event.error)}`);
  };
  return Object.assign(listener, {
    finish() {
      sumReads();
      if (unchanged > 0) say(`  ${stamp()} ${unchanged} unchanged`);
      unchanged = 0;
    },
  });
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0];
}
