// `npm run test:reliability`: the fault suite (tests/reliability/*.reliability.ts) against the lab. Ends
// with the counts line, then "N passed, M failed"; any loss, leak, executed injection or accepted bad
// config counts as a failure even when every test passed. `npm test` runs it too and adds its tally.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { countsLine, totals } from "../tests/reliability/tally";

const root = path.resolve(__dirname, "..");

export interface ReliabilityTally {
  passed: number;
  failed: number;
}

export function runReliabilitySuite(): ReliabilityTally {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-reliability-"));
  const statsFile = path.join(dir, "stats.json");
  const tallyFile = path.join(dir, "tally.jsonl");
  fs.writeFileSync(tallyFile, "");
  const result = spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(root, "node_modules", "mocha", "bin", "mocha.js"),
      "--reporter",
      path.join(__dirname, "mochaStatsReporter.ts"),
      "--timeout",
      "300000",
      "tests/reliability/**/*.reliability.ts",
    ],
    {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, MOCHA_STATS_FILE: statsFile, NPSMFA_RELIABILITY_TALLY: tallyFile },
    },
  );
  const stats = fs.existsSync(statsFile)
    ? (JSON.parse(fs.readFileSync(statsFile, "utf8")) as ReliabilityTally)
    : { passed: 0, failed: 1 };
  const sum = totals(fs.readFileSync(tallyFile, "utf8"));
  const leaks = sum.keysLost + sum.secretsFound + sum.injectionsExecuted + sum.badConfigsAccepted;
  const failed =
    stats.failed +
    (leaks > 0 && stats.failed === 0 ? 1 : 0) +
    (result.status !== 0 && stats.failed === 0 ? 1 : 0);
  console.log(`\n${countsLine(sum)}`);
  console.log(`reliability: ${stats.passed} passed, ${failed} failed`);
  return { passed: stats.passed, failed };
}

if (require.main === module) {
  const { failed } = runReliabilitySuite();
  process.exitCode = failed === 0 ? 0 : 1;
}
