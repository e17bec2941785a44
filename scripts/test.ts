// `npm test`: every check the project has, in one command, ending with the line CI reads:
// "N passed, M failed", summed over mocha and Pester. Type and lint errors count as failures.
import { spawn, spawnSync } from "node:child_process";
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

function runStep(title: string, command: string, args: string[]): boolean {
  console.log(`\n=== ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.error) console.error(`${title}: could not start ${command}: ${result.error.message}`);
  return result.status === 0;
}

async function runAllMocha(): Promise<Tally> {
  console.log("\n=== mocha");
  // The spec lives here, not in .mocharc.json, so `npx mocha tests/<area>` runs just that area.
  const run = await runMocha("tests/**/*.test.ts", { jobs: Number(process.env.NPSMFA_TEST_JOBS ?? 3) });
  return { passed: run.passed, failed: run.failed + (run.exitedCleanly || run.failed > 0 ? 0 : 1) };
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
  const checks: [string, boolean][] = [
    ["typecheck (tsc --noEmit)", runStep("typecheck", bin("tsc"), ["--noEmit", "-p", root])],
    ["lint (eslint)", runStep("eslint", bin("eslint"), ["--max-warnings", "0", "."])],
    ["format (prettier --check)", runStep("prettier", bin("prettier"), ["--check", "."])],
  ];
  // Pester and the reliability suite run beside mocha, their output printed once mocha's is done: the
  // suites spend much of their time waiting, and one after another took three times as long.
  const [mocha, pester, reliability] = await Promise.all([
    runAllMocha(),
    runPester(),
    runReliabilitySuite({ keepOutput: true }),
  ]);
  process.stdout.write(pester.output ?? "");
  process.stdout.write(`\n=== reliability\n${reliability.output}`);
  const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
  const passed = mocha.passed + pester.passed + reliability.passed + checks.length - failedChecks.length;
  const failed = mocha.failed + pester.failed + reliability.failed + failedChecks.length;
  console.log(`\nmocha: ${mocha.passed} passed, ${mocha.failed} failed`);
  console.log(`Pester: ${pester.passed} passed, ${pester.failed} failed`);
  console.log(`reliability: ${reliability.passed} passed, ${reliability.failed} failed`);
  if (failedChecks.length > 0) console.log(`failed checks: ${failedChecks.join(", ")}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

void main();
