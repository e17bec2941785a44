// One mocha run as `npm test` and `npm run test:reliability` make it: the spec reporter on the console,
// the pass/fail counts written by scripts/mochaStatsReporter.ts for the runner to add up.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");

export interface MochaTally {
  passed: number;
  failed: number;
  /** False when mocha itself ended badly (it crashed, or a hook failed outside any test). */
  exitedCleanly: boolean;
}

export function runMocha(
  spec: string,
  options: { timeoutMs?: number; env?: Record<string, string>; jobs?: number } = {},
): MochaTally {
  const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-mocha-")), "stats.json");
  const result = spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join(root, "node_modules", "mocha", "bin", "mocha.js"),
      "--reporter",
      path.join(__dirname, "mochaStatsReporter.ts"),
      ...(options.timeoutMs === undefined ? [] : ["--timeout", String(options.timeoutMs)]),
      // Files in parallel worker processes: most of a scenario's time is spent waiting (IAS health
      // windows, MFA approvals, Graph write windows), which other files can use.
      ...((options.jobs ?? 1) > 1 ? ["--parallel", "--jobs", String(options.jobs)] : []),
      spec,
    ],
    { cwd: root, stdio: "inherit", env: { ...process.env, ...options.env, MOCHA_STATS_FILE: statsFile } },
  );
  if (result.error) console.error(`mocha: could not start: ${result.error.message}`);
  const stats = fs.existsSync(statsFile)
    ? (JSON.parse(fs.readFileSync(statsFile, "utf8")) as { passed: number; failed: number })
    : { passed: 0, failed: 1 };
  return { ...stats, exitedCleanly: result.status === 0 };
}
