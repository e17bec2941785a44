// `npm run test:reliability`: the fault suite (tests/reliability/*.reliability.ts) against the lab. Ends
// with the counts line, then "N passed, M failed"; any loss, leak, executed injection or accepted bad
// config counts as a failure even when every test passed. `npm test` runs it too and adds its tally.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { countsLine, totals } from "../tests/reliability/tally";
import { runMocha } from "./mocha";

export interface ReliabilityTally {
  passed: number;
  failed: number;
  /** The suite's output and counts line, when kept to print after a run beside it ends. */
  output: string;
}

export async function runReliabilitySuite(options: { keepOutput?: boolean } = {}): Promise<ReliabilityTally> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-reliability-"));
  const tallyFile = path.join(dir, "tally.jsonl");
  fs.writeFileSync(tallyFile, "");
  const run = await runMocha("tests/reliability/**/*.reliability.ts", {
    timeoutMs: 300_000,
    env: { NPSMFA_RELIABILITY_TALLY: tallyFile },
    keepOutput: options.keepOutput,
  });
  const sum = totals(fs.readFileSync(tallyFile, "utf8"));
  const leaks = sum.keysLost + sum.secretsFound + sum.injectionsExecuted + sum.badConfigsAccepted;
  const failed = run.failed + (leaks > 0 && run.failed === 0 ? 1 : 0);
  const summary = `\n${countsLine(sum)}\nreliability: ${run.passed} passed, ${failed} failed\n`;
  if (!options.keepOutput) process.stdout.write(summary);
  return { passed: run.passed, failed, output: options.keepOutput ? run.output + summary : "" };
}

if (require.main === module) {
  void runReliabilitySuite().then(({ failed }) => (process.exitCode = failed === 0 ? 0 : 1));
}
