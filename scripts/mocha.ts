// One mocha run as `npm test` and `npm run test:reliability` make it: the spec reporter on the console
// (or kept, to print after a run beside it ends), the pass/fail counts written by
// scripts/mochaStatsReporter.ts for the runner to add up.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");

export interface MochaTally {
  passed: number;
  /**
   * Failed tests; one when mocha itself ended badly (it crashed, or a hook failed outside any test)
   * and no test failed, so a run that never reached its tests does not pass.
   */
  failed: number;
  /** What mocha printed, when it was kept rather than shown. */
  output: string;
}

export interface MochaOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Test files in this many worker processes (mocha --parallel). */
  jobs?: number;
  /** Keep the output (returned in `output`) instead of showing it as it comes. */
  keepOutput?: boolean;
}

export function runMocha(spec: string | string[], options: MochaOptions = {}): Promise<MochaTally> {
  const statsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-mocha-")), "stats.json");
  const args = [
    "-r",
    "ts-node/register/transpile-only",
    path.join(root, "node_modules", "mocha", "bin", "mocha.js"),
    "--reporter",
    path.join(__dirname, "mochaStatsReporter.ts"),
    ...(options.timeoutMs === undefined ? [] : ["--timeout", String(options.timeoutMs)]),
    // Files in parallel worker processes: most of a scenario's time is spent waiting (IAS health
    // windows, MFA approvals, Graph write windows), which other files can use.
    ...((options.jobs ?? 1) > 1 ? ["--parallel", "--jobs", String(options.jobs)] : []),
    ...(Array.isArray(spec) ? spec : [spec]),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: options.keepOutput ? ["ignore", "pipe", "pipe"] : "inherit",
      env: { ...process.env, ...options.env, MOCHA_STATS_FILE: statsFile },
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const finish = (status: number | null, error?: Error) => {
      if (error) output += `mocha: could not start: ${error.message}\n`;
      const stats = fs.existsSync(statsFile)
        ? (JSON.parse(fs.readFileSync(statsFile, "utf8")) as { passed: number; failed: number })
        : { passed: 0, failed: 1 };
      fs.rmSync(path.dirname(statsFile), { recursive: true, force: true });
      if (error && !options.keepOutput) console.error(output);
      const endedBadly = status !== 0 && stats.failed === 0;
      resolve({ passed: stats.passed, failed: stats.failed + (endedBadly ? 1 : 0), output });
    };
    child.on("error", (error) => finish(null, error));
    child.on("close", (status) => finish(status));
  });
}
