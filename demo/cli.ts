// `npm run demo [-- --keep] [--json] [--engine auto|local|pulumi]`: the article's lab, broken then fixed,
// in one command (demo/story.ts). Starts the lab in a temporary folder, runs the story with the Pulumi CLI
// where it is on PATH and with our engine where it is not, prints a summary, and exits 0 when the story
// ended as it should, 1 with the reason otherwise. --keep leaves the lab running to explore; --json
// prints the summary as JSON on stdout (the story then goes to stderr).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandHelp, parseCommandLine, runCommand, UsageError, usageText } from "../cli/commandLine";
import { RunningLab, startLab } from "../lab/cli";
import type { DemoDriver } from "./driver";
import { startLocalDriver } from "./localDriver";
import { startPulumiCliDriver } from "./pulumiCliDriver";
import { DemoReport, tellStory } from "./story";
import { summaryLines } from "./summary";

const engines = ["auto", "local", "pulumi"] as const;

export interface DemoOptions {
  keep: boolean;
  json: boolean;
  engine: (typeof engines)[number];
}

export interface DemoRun {
  report: DemoReport;
  /** The temporary folder: the lab's state, provider messages, the CLI's backend. */
  workDir: string;
  /** Still running when asked to keep it; stopped otherwise. */
  lab: RunningLab;
  providerMessagesFile: string;
}

/** Long enough that RRAS's 5 s default cannot wait for a person, short enough for a demo. */
const demoApprovalSeconds = 8;
const repoRoot = path.resolve(__dirname, "..");

const demoCommand: CommandHelp = {
  name: "npm run demo",
  synopsis: ["[--keep] [--json] [--engine auto|local|pulumi]"],
  description:
    "The article's lab, broken then fixed, in one command: starts a lab in a temporary folder and tells the " +
    `story step by step (its user approves MFA in ${demoApprovalSeconds} s). Exits 0 when the story ended as ` +
    "it should, 1 with the reason otherwise, and then keeps the folder to look into.",
  options: {
    keep: { type: "boolean", default: false, help: "leave the lab running afterwards, to explore" },
    json: {
      type: "boolean",
      default: false,
      help: "the summary as JSON on stdout, the story on stderr (npm run --silent demo -- --json)",
    },
    engine: {
      type: "string",
      value: "<engine>",
      default: "auto",
      help: "pulumi (the Pulumi CLI), local (our engine), auto (pulumi when on PATH)",
    },
  },
  examples: ["npm run demo -- --keep"],
};

/** undefined: the person asked for --help. */
export function parseDemoArguments(argv: string[]): DemoOptions | undefined {
  const { help, values } = parseCommandLine(demoCommand, argv);
  if (help) return undefined;
  const engine = values.engine as string;
  if (!(engines as readonly string[]).includes(engine)) {
    throw new UsageError(`expected --engine ${engines.join(", ")}, found ${JSON.stringify(engine)}`);
  }
  return { keep: values.keep === true, json: values.json === true, engine: engine as DemoOptions["engine"] };
}

/** The `pulumi` executable on a PATH, if any. */
export function pulumiOnPath(
  pathVariable: string | undefined,
  isFile = (file: string) => fs.existsSync(file),
): string | undefined {
  const names = process.platform === "win32" ? ["pulumi.exe", "pulumi.cmd"] : ["pulumi"];
  for (const dir of (pathVariable ?? "").split(path.delimiter).filter((entry) => entry !== "")) {
    for (const name of names) if (isFile(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Starts the lab and tells the story; the lab keeps running only when `options.keep` says so. */
export async function runDemo(options: DemoOptions, say: (line: string) => void): Promise<DemoRun> {
  const pulumi = pulumiOnPath(process.env.PATH);
  // Said before the lab starts: the Automation API's own error for a missing CLI is a raw object.
  if (options.engine === "pulumi" && pulumi === undefined)
    throw new Error(
      "--engine pulumi: the Pulumi CLI is not on PATH. Install it (https://www.pulumi.com/docs/install/), " +
        "or run the demo with our engine: npm run demo -- --engine local",
    );
  const usePulumi = pulumi !== undefined && options.engine !== "local";
  say(
    usePulumi
      ? "engine: the Pulumi CLI, through the Automation API, with a local file backend in a temporary folder"
      : "engine: npsmfa's local engine (no Pulumi CLI on PATH): Pulumi's own runtime and dynamic-provider host",
  );
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-demo-"));
  const labDir = path.join(workDir, "lab");
  say(`lab: a tenant and its servers (2 NPS, 1 VPN), working, in ${labDir}`);
  // Pulumi.lab.yaml goes to the temporary folder too: the demo leaves the repository as it found it.
  const lab = await startLab({
    dir: labDir,
    projectDir: workDir,
    nps: 2,
    vpn: 1,
    // A working estate the tool takes over; the story then breaks it as the article found it (demo/theArticle.ts).
    seed: "healthy",
    approvalSeconds: demoApprovalSeconds,
  });
  const providerMessagesFile = path.join(workDir, "provider-messages.log");
  let driver: DemoDriver | undefined;
  try {
    driver = usePulumi
      ? await startPulumiCliDriver(lab.description, repoRoot, workDir)
      : await startLocalDriver(lab.description);
    const report = await tellStory(lab, driver, say);
    fs.writeFileSync(providerMessagesFile, driver.providerMessages());
    return { report, workDir, lab, providerMessagesFile };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\nThe demo's folder is kept to look into: ${workDir}`);
  } finally {
    await driver?.stop();
    if (!options.keep) await lab.stop();
  }
}

function exploreLines(run: DemoRun): string[] {
  const labDir = path.join(run.workDir, "lab");
  const vpn = run.lab.description.hosts.find((host) => host.role === "vpn")?.name ?? "vpn01";
  const user = run.lab.description.users[0]?.name ?? "alice";
  return [
    "",
    `The lab keeps running (Ctrl+C stops it); its state is in ${labDir}. In another terminal:`,
    `  npm run lab -- dial ${vpn} ${user} --dir ${labDir}    # a VPN dial`,
    `  npm run doctor -- --lab ${labDir}                  # why sign-in fails, read-only`,
    `  Pulumi.lab.yaml and set-lab-secrets.sh for the Pulumi CLI: ${run.workDir}, ${labDir}`,
  ];
}

async function main(): Promise<number | undefined> {
  const options = parseDemoArguments(process.argv.slice(2));
  if (!options) {
    console.log(usageText(demoCommand));
    return 0;
  }
  // With --json, stdout carries only the summary; the story goes to stderr.
  const say = options.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const run = await runDemo(options, say);
  const messages = fs.readFileSync(run.providerMessagesFile, "utf8").trim();
  for (const line of summaryLines(run.report)) say(line);
  const kept = options.keep || !run.report.ok;
  say(
    messages === ""
      ? "Provider messages: none."
      : `Provider messages (${messages.split("\n").length} lines): ${kept ? run.providerMessagesFile : "shown with --keep"}`,
  );
  if (options.json)
    console.log(JSON.stringify({ ...run.report, workDir: kept ? run.workDir : undefined }, null, 2));
  const exitCode = run.report.ok ? 0 : 1;
  if (!kept) fs.rmSync(run.workDir, { recursive: true, force: true });
  else if (!options.keep) say(`The demo's folder is kept to look into: ${run.workDir}`);
  if (!options.keep) return exitCode;
  for (const line of exploreLines(run)) say(line);
  const stop = () =>
    run.lab.stop().then(
      () => process.exit(exitCode),
      () => process.exit(1),
    );
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return undefined;
}

if (require.main === module) runCommand("npm run demo", main);
