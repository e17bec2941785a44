// Live progress lines for an operation, as the CLI prints them while it runs: each of our resources'
// steps as it starts and ends, with the time since the operation began. Reads (the refresh every
// `--refresh` runs first) are summed up in one line, except those that found drift.
import { performance } from "node:perf_hooks";
import type { ProgressEvent, ProgressListener } from "../engine";
import { isDynamicType } from "../providers/resourceTypes";

const ours = (event: ProgressEvent) => isDynamicType(event.type);

export function progressPrinter(
  say: (line: string) => void,
  now = () => performance.now(),
): ProgressListener {
  const began = now();
  const reads = { done: 0, drifted: 0, summed: false };
  const stamp = () => `[${((now() - began) / 1000).toFixed(1).padStart(6)} s]`;
  const sumReads = () => {
    if (reads.summed || reads.done === 0) return;
    reads.summed = true;
    say(`  ${stamp()} read ${reads.done} resources, ${reads.drifted} drifted`);
  };
  return (event) => {
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
    if (event.kind === "started") say(`  ${stamp()} started  ${event.name}`);
    if (event.kind === "done") {
      const outcome = event.op === "same" ? "unchanged" : event.op;
      say(`  ${stamp()} done     ${event.name}: ${outcome} (${event.seconds} s)`);
    }
    if (event.kind === "failed")
      say(`  ${stamp()} FAILED   ${event.name} after ${event.seconds} s: ${firstLine(event.error)}`);
  };
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n")[0];
}
