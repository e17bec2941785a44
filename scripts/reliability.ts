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
}

export function runReliabilitySuite(): ReliabilityTally {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-reliability-"));
  const tallyFile = path.join(dir, "tally.jsonl");
  fs.writeFileSync(tallyFile, "");
  const run = runMocha("tests/reliability/**/*.reliability.ts", {
    timeoutMs: 300_000,
    env: { NPSMFA_RELIABILITY_TALLY: tallyFile },
  });
  const sum = totals(fs.readFileSync(tallyFile, "utf8"));
  const leaks = sum.keysLost + sum.secretsFound + sum.injectionsExecuted + sum.badConfigsAccepted;
  const failed =
    run.failed + (leaks > 0 && run.failed === 0 ? 1 : 0) + (!run.exitedCleanly && run.failed === 0 ? 1 : 0);
  console.log(`\n${countsLine(sum)}`);
  console.log(`reliability: ${run.passed} passed, ${failed} failed`);
  return { passed: run.passed, failed };
}

if (require.main === module) {
  const { failed } = runReliabilitySuite();
  process.exitCode = failed === 0 ? 0 : 1;
}
