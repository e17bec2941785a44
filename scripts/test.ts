// `npm test`: every check the project has, in one command, ending with the line CI reads:
// "N passed, M failed", summed over mocha and Pester. Type and lint errors count as failures.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runMocha } from "./mocha";
import { findPwsh, pesterModulePath } from "./powershell";
import { runReliabilitySuite } from "./reliability";

const root = path.resolve(__dirname, "..");
const bin = (name: string) => path.join(root, "node_modules", ".bin", name);

interface Tally {
  passed: number;
  failed: number;
  /** Output kept while another runner showed its own. */
  output?: string;
}

/** A check (tsc, eslint, prettier), its output kept: the checks run beside the test runners. */
function runCheck(title: string, command: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = `\n=== ${title}\n`;
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) =>
      resolve({ ok: false, output: `${output}${title}: could not start ${command}: ${error.message}\n` }),
    );
    child.on("close", (status) => resolve({ ok: status === 0, output }));
  });
}

/**
 * The files that take a minute or more, slowest first (their own test times on a 2-core machine running
 * the whole suite: 230 s down to 40 s). `mocha --parallel` hands files to its workers in the order given;
 * alphabetical order started tests/scenario last, so the longest files ran alone at the end of a 10-minute
 * run. Longest first keeps every worker busy to the end. A file missing here runs after these.
 */
const slowestFirst = [
  "tests/package/installed.test.ts",
  "tests/scenario/article.test.ts",
  "tests/scenario/rollout.test.ts",
  "tests/scenario/rotation.test.ts",
  "tests/scenario/lifecycle.test.ts",
  "tests/engine/engine.test.ts",
  "tests/scenario/rotationInterrupted.test.ts",
  "tests/demo/demo.test.ts",
  "tests/lab/radius.test.ts",
  "tests/entra/npsCertificateCredential.test.ts",
  "tests/scenario/healthy.test.ts",
  "tests/doctor/lab.test.ts",
  "tests/scenario/badInput.test.ts",
  "tests/engine/progress.test.ts",
];

/** Every tests/**\/*.test.ts, the slow ones first (see slowestFirst), the rest in path order. */
function mochaFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith(".test.ts")) found.push(relative);
    }
  };
  walk("tests");
  const rank = (file: string) => {
    const index = slowestFirst.indexOf(file);
    return index < 0 ? slowestFirst.length : index;
  };
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function runAllMocha(): Promise<Tally> {
  console.log("\n=== mocha");
  // The spec lives here, not in .mocharc.json, so `npx mocha tests/<area>` runs just that area.
  // Four workers on two CPUs: most of a scenario's time is waiting (approvals, IAS health windows, RADIUS
  // timeouts), so a fourth file overlaps those waits. With a CPU-bound process beside the suite: 3 workers
  // 493 s, 4 workers 460 s.
  const run = await runMocha(mochaFiles(), { jobs: Number(process.env.NPSMFA_TEST_JOBS ?? 4) });
  return { passed: run.passed, failed: run.failed };
}

/** Pester, its output kept: it runs beside mocha. */
async function runPester(): Promise<Tally> {
  const testDir = path.join(root, "tests", "powershell");
  const hasTests =
    fs.existsSync(testDir) && fs.readdirSync(testDir).some((name) => name.endsWith(".Tests.ps1"));
  if (!hasTests) return { passed: 0, failed: 0 };
  const pwsh = findPwsh(root);
  if (!pwsh) {
    console.error(
      "Pester: PowerShell 7 not found. Run `npm ci` (it restores the dotnet tool) or install pwsh.",
    );
    return { passed: 0, failed: 1 };
  }
  const resultFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-pester-")), "result.json");
  const script = [
    "$ErrorActionPreference = 'Stop'",
    `Import-Module '${pesterModulePath(root)}'`,
    "$config = New-PesterConfiguration",
    `$config.Run.Path = '${testDir}'`,
    "$config.Run.PassThru = $true",
    "$config.Output.Verbosity = 'Detailed'",
    // Pester writes ANSI colours even into a pipe or a CI log; only a terminal gets them.
    `$config.Output.RenderMode = '${process.stdout.isTTY ? "Auto" : "Plaintext"}'`,
    "$result = Invoke-Pester -Configuration $config",
    `@{ passed = $result.PassedCount; failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount } | ConvertTo-Json | Set-Content -LiteralPath '${resultFile}'`,
  ].join("\n");
  const output = await new Promise<string>((resolve) => {
    const child = spawn(pwsh.command, [...pwsh.args, "-NoProfile", "-NonInteractive", "-Command", script], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "\n=== Pester\n";
    child.stdout.on("data", (chunk) => (text += chunk));
    child.stderr.on("data", (chunk) => (text += chunk));
    child.on("error", (error) =>
      resolve(`${text}Pester: could not start ${pwsh.command}: ${error.message}\n`),
    );
    child.on("close", () => resolve(text));
  });
  if (!fs.existsSync(resultFile)) return { passed: 0, failed: 1, output };
  return { ...(JSON.parse(fs.readFileSync(resultFile, "utf8")) as Tally), output };
}

async function main(): Promise<void> {
  const started = Date.now();
  // The checks, Pester and the reliability suite run beside mocha, their output printed once mocha's is
  // done: the suites spend much of their time waiting, and one after another took three times as long.
  const checkRuns: [string, Promise<{ ok: boolean; output: string }>][] = [
    ["typecheck (tsc --noEmit)", runCheck("typecheck", bin("tsc"), ["--noEmit", "-p", root])],
    ["lint (eslint)", runCheck("eslint", bin("eslint"), ["--max-warnings", "0", "."])],
    ["format (prettier --check)", runCheck("prettier", bin("prettier"), ["--check", "."])],
  ];
  // The providers' hosts load the package's compiled JavaScript (dist/, providers/seam.ts): build it first.
  const build = await runCheck("build (npm run build)", process.execPath, [
    path.join(root, "scripts", "build.mjs"),
  ]);
  if (!build.ok) {
    process.stdout.write(build.output);
    console.log("npm test: the build failed; nothing else ran\n0 passed, 1 failed");
    process.exitCode = 1;
    return;
  }
  const [mocha, pester, reliability] = await Promise.all([
    runAllMocha(),
    runPester(),
    runReliabilitySuite({ keepOutput: true }),
  ]);
  const checks: [string, boolean][] = [];
  for (const [name, run] of checkRuns) {
    const { ok, output } = await run;
    process.stdout.write(output);
    checks.push([name, ok]);
  }
  process.stdout.write(pester.output ?? "");
  process.stdout.write(`\n=== reliability\n${reliability.output}`);
  const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
  const passed = mocha.passed + pester.passed + reliability.passed + checks.length - failedChecks.length;
  const failed = mocha.failed + pester.failed + reliability.failed + failedChecks.length;
  console.log(`\nmocha: ${mocha.passed} passed, ${mocha.failed} failed`);
  console.log(`Pester: ${pester.passed} passed, ${pester.failed} failed`);
  console.log(`reliability: ${reliability.passed} passed, ${reliability.failed} failed`);
  if (failedChecks.length > 0) console.log(`failed checks: ${failedChecks.join(", ")}`);
  // The suite's own time, for the "under 8 minutes on 2 CPUs" target (README): a figure, never a test.
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`npm test took ${seconds} s (${(seconds / 60).toFixed(1)} min) on ${os.cpus().length} CPUs`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

void main();
