// The first hour: each command a newcomer types, with the bad input a newcomer gives it, run as a person
// runs it (a child process, no lab running). Each answers with its exit code and one first line that names
// the problem and the way out, the command's name once, and never a stack frame.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const repoRoot = path.resolve(__dirname, "..", "..");
const stackFrame = /^\s+at .+[:(]\d+/m;

interface Answer {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One command as `npm run <script> -- <args>` runs it, with a PATH that has no Pulumi CLI. */
function run(script: "lab" | "doctor" | "demo", args: string[], emptyPath: string): Promise<Answer> {
  const entry = { lab: "lab/cli.ts", doctor: "doctor/cli.ts", demo: "demo/cli.ts" }[script];
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", entry, ...args],
      { cwd: repoRoot, env: { ...process.env, PATH: emptyPath }, timeout: 120_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe("scenario: every command answers bad input with one clear line", function () {
  // Eleven ts-node processes at once, none starting a lab: each costs about 2 s of CPU.
  this.timeout(300_000);
  let dir: string;
  const answers = new Map<string, Answer>();
  const cases: { name: string; script: "lab" | "doctor" | "demo"; args: () => string[] }[] = [
    { name: "lab -h", script: "lab", args: () => ["-h"] },
    { name: "lab --bogus", script: "lab", args: () => ["--bogus"] },
    { name: "lab restart on bad JSON", script: "lab", args: () => ["--dir", path.join(dir, "not-json")] },
    {
      name: "dial on {}",
      script: "lab",
      args: () => ["dial", "vpn01", "alice", "--dir", path.join(dir, "empty")],
    },
    {
      name: "dial, unknown user",
      script: "lab",
      args: () => ["dial", "vpn01", "mallory", "--dir", path.join(dir, "lab")],
    },
    { name: "doctor --help", script: "doctor", args: () => ["--help"] },
    { name: "doctor --lab on {}", script: "doctor", args: () => ["--lab", path.join(dir, "empty")] },
    { name: "doctor --stack without pulumi", script: "doctor", args: () => ["--stack", "prod"] },
    { name: "demo --help", script: "demo", args: () => ["--help"] },
    { name: "demo --engine terraform", script: "demo", args: () => ["--engine", "terraform"] },
    { name: "demo --engine pulumi without pulumi", script: "demo", args: () => ["--engine", "pulumi"] },
  ];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-bad-input-"));
    const lab = {
      tenantId: "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40",
      caFile: path.join(dir, "lab-ca.pem"),
      graph: {
        url: "https://127.0.0.1:1/v1.0",
        authority: "https://127.0.0.1:1",
        clientId: "c",
        clientSecret: "s",
      },
      hosts: [],
      seed: "article",
      graphStateFile: path.join(dir, "graph-tenant.json"),
      users: [{ name: "alice", upn: "alice@lab.example.com", password: "pw" }],
      mfaApprovalSeconds: 20,
    };
    const files: Record<string, string> = {
      "not-json": "{ this is not JSON",
      empty: "{}",
      lab: JSON.stringify({
        ...lab,
        hosts: [
          {
            name: "vpn01",
            role: "vpn",
            winrmUrl: "https://127.0.0.1:1/wsman",
            winrmHttpUrl: "http://127.0.0.1:2/wsman",
            username: "labadmin",
            password: "pw",
            stateFile: path.join(dir, "vpn01.json"),
          },
        ],
      }),
    };
    for (const [folder, text] of Object.entries(files)) {
      fs.mkdirSync(path.join(dir, folder));
      fs.writeFileSync(path.join(dir, folder, "lab.json"), text);
    }
    const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-no-pulumi-"));
    const results = await Promise.all(cases.map((entry) => run(entry.script, entry.args(), emptyPath)));
    cases.forEach((entry, index) => answers.set(entry.name, results[index]));
    fs.rmSync(emptyPath, { recursive: true, force: true });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The answer's exit code and first line (stdout for --help, stderr otherwise), and no stack anywhere. */
  function expectAnswer(name: string, code: number, firstLine: RegExp | string): string {
    const answer = answers.get(name)!;
    const text = code === 0 ? answer.stdout : answer.stderr;
    const shown = `${name}: exit ${answer.code}\n${answer.stdout}${answer.stderr}`;
    assert.equal(answer.code, code, shown);
    const [first] = text.split("\n");
    if (typeof firstLine === "string") assert.equal(first, firstLine, shown);
    else assert.match(first, firstLine, shown);
    assert.doesNotMatch(answer.stdout + answer.stderr, stackFrame, shown);
    assert.doesNotMatch(first, /^(npm run \w+(?: -- \w+)?): \1:/, `${shown}\nthe prefix is repeated`);
    return text;
  }

  it("--help and -h print the usage with every option, its default and an example", () => {
    const lab = expectAnswer("lab -h", 0, "usage: npm run lab -- --dir <folder> [options]");
    for (const option of [
      "--dir",
      "--nps",
      "--vpn",
      "--seed",
      "--approval-seconds",
      "(default: 2)",
      "example",
    ])
      assert.ok(lab.includes(option), `npm run lab -- -h lacks ${option}:\n${lab}`);
    const doctor = expectAnswer(
      "doctor --help",
      0,
      /^usage: npm run doctor -- \(--stack <name> \| --lab <dir>\)/,
    );
    for (const option of ["--stack", "--lab", "--user", "--since", "--json", "(default: 24)", "example"])
      assert.ok(doctor.includes(option), `npm run doctor -- --help lacks ${option}:\n${doctor}`);
    const demo = expectAnswer(
      "demo --help",
      0,
      "usage: npm run demo -- [--keep] [--json] [--engine auto|local|pulumi]",
    );
    for (const option of ["--keep", "--json", "--engine", "(default: auto)", "example"])
      assert.ok(demo.includes(option), `npm run demo -- --help lacks ${option}:\n${demo}`);
    for (const text of [lab, doctor, demo])
      for (const line of text.split("\n")) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
  });

  it("an unknown option names itself and the valid ones; a bad value names the setting, once prefixed", () => {
    expectAnswer(
      "lab --bogus",
      2,
      "npm run lab: unknown option --bogus; the options are --dir, --nps, --vpn, --seed, --approval-seconds, --extension-version, --help",
    );
    expectAnswer(
      "demo --engine terraform",
      2,
      'npm run demo: expected --engine auto, local, pulumi, found "terraform" (--help lists the options)',
    );
  });

  it("without the Pulumi CLI, the doctor's --stack and the demo's --engine pulumi say so and what to do", () => {
    expectAnswer(
      "doctor --stack without pulumi",
      2,
      /^npm run doctor: --stack prod: the Pulumi CLI is not on PATH.* Install it \(https:\/\/www\.pulumi\.com\/docs\/install\/\), or for a lab use --lab <dir>$/,
    );
    expectAnswer(
      "demo --engine pulumi without pulumi",
      1,
      /^npm run demo: --engine pulumi: the Pulumi CLI is not on PATH\. Install it .*npm run demo -- --engine local$/,
    );
    assert.doesNotMatch(
      answers.get("demo --engine pulumi without pulumi")!.stdout,
      /lab:/,
      "the lab started first",
    );
  });

  it("a damaged or foreign lab.json is named, with its path and the fix, by the dial, the doctor and a restart", () => {
    const damaged = (folder: string, found: string) =>
      new RegExp(
        `${path.join(dir, folder, "lab.json").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: expected the lab description ` +
          `that npm run lab writes, found ${found}.*--seed article$`,
      );
    expectAnswer(
      "lab restart on bad JSON",
      1,
      new RegExp(`^npm run lab: ${damaged("not-json", "text that is not JSON").source}`),
    );
    expectAnswer(
      "dial on {}",
      1,
      new RegExp(`^npm run lab -- dial: ${damaged("empty", 'JSON without a valid "tenantId"').source}`),
    );
    expectAnswer(
      "doctor --lab on {}",
      2,
      new RegExp(`^npm run doctor: ${damaged("empty", 'JSON without a valid "tenantId"').source}`),
    );
  });

  it("a user the lab does not know is named as unknown, with the known ones", () => {
    expectAnswer(
      "dial, unknown user",
      1,
      'npm run lab -- dial: "mallory" is not a user of the lab; its users are alice (alice@lab.example.com)',
    );
  });
});
