// The `pulumi` command lines our documentation tells people to type, run against the test engine as the
// CLI would run them, so a scenario test can run a README block as written. The stack's state lives here
// between commands, as the backend keeps it: every command that writes (up, refresh, destroy, import)
// saves what it did, also when it fails. Commands that only set up a machine (login, stack select,
// exporting the passphrase) change nothing the engine models; `sh .lab/set-lab-secrets.sh` runs the lab's
// script line by line, its `pulumi config set --secret` lines as the stack's config.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  describeDiagnostic,
  emptyState,
  Engine,
  EngineError,
  EngineState,
  PolicyDiagnostic,
  PolicyPackOption,
  StackSettings,
  Step,
} from "../../engine";

export interface CommandResult {
  line: string;
  steps: Step[];
  /** Steps that are not `same`: what `--expect-no-changes` refuses. */
  changes: Step[];
  /** Advisory policy violations, printed as the CLI prints them. */
  advisories?: PolicyDiagnostic[];
}

/** Thrown by `pulumi preview --expect-no-changes` when the preview has changes, as the CLI exits non-zero. */
export class ChangesFound extends Error {
  constructor(readonly changes: Step[]) {
    super(
      `error: no changes were expected but changes were proposed: ${changes.map((c) => `${c.op} ${c.name}`).join(", ")}`,
    );
  }
}

/** Words of a shell line: single-quoted parts kept whole, a trailing `# comment` dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let quoted = false;
  let inWord = false;
  for (const char of line) {
    if (quoted) {
      if (char === "'") quoted = false;
      else current += char;
    } else if (char === "'") {
      quoted = true;
      inWord = true;
    } else if (char === "#" && !inWord) {
      break;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

const setupCommands = [
  /^pulumi (login|stack (select|init))\b/,
  /^export PULUMI_CONFIG_PASSPHRASE=/,
  /^set -eu$/,
  /^az login$/,
  /^cd /,
  /^cp /,
];

export class PulumiCli {
  state: EngineState = emptyState();
  /** Every line run, in order. */
  readonly ran: string[] = [];

  /**
   * Relative paths on a command line (`--policy-pack policies`) resolve from `cwd`, where the documentation
   * has people run pulumi; `.lab/` stands for `labDir`, the lab's folder; `program` stands for the project's
   * program when it is not the engine's.
   */
  constructor(
    readonly engine: Engine,
    readonly options: { cwd?: string; labDir?: string; program?: () => unknown } = {},
  ) {}

  /** Runs each line in turn; returns the last command's result. */
  async runAll(lines: string[]): Promise<CommandResult | undefined> {
    let last: CommandResult | undefined;
    for (const line of lines) last = await this.run(line);
    return last;
  }

  async run(line: string): Promise<CommandResult> {
    const words = shellWords(line);
    const text = words.join(" ");
    this.ran.push(text);
    const none: CommandResult = { line: text, steps: [], changes: [] };
    if (setupCommands.some((pattern) => pattern.test(text))) return none;
    if (words[0] === "sh" && words.length === 2) return this.script(text, words[1]);
    if (words[0] !== "pulumi") throw new Error(`pulumiCli: not a command the documentation may use: ${line}`);
    const { positional, flags, values } = parseFlags(words.slice(2));
    const run = {
      refresh: flags.has("--refresh"),
      policyPacks: this.policyPacks(values),
      ...(this.options.program ? { program: this.options.program } : {}),
    };
    switch (words[1]) {
      case "preview": {
        const { steps, changes, advisories } = await this.engine.preview(this.state, run);
        printAdvisories(advisories);
        if (flags.has("--expect-no-changes") && changes.length > 0) throw new ChangesFound(changes);
        return { line: text, steps, changes, advisories };
      }
      case "up":
        return this.saving(text, () => this.engine.up(this.state, run));
      case "refresh":
        return this.saving(text, () => this.engine.refresh(this.state));
      case "destroy":
        return this.saving(text, () => this.engine.destroy(this.state));
      case "import": {
        const [type, name, id] = positional;
        return this.saving(text, () => this.engine.import(this.state, { type, name, id }));
      }
      case "config":
        this.engine.setStackConfig(configCommand(this.engine.stackConfig, positional, flags));
        return none;
      default:
        throw new Error(`pulumiCli: pulumi ${words[1]} is not modelled: ${line}`);
    }
  }

  /** `sh <file>`: each line of a script we write (set-lab-secrets.sh), in turn. */
  private async script(line: string, file: string): Promise<CommandResult> {
    const { labDir, cwd = process.cwd() } = this.options;
    const resolved =
      labDir && file.startsWith(".lab/") ? path.join(labDir, file.slice(5)) : path.resolve(cwd, file);
    const lines = fs
      .readFileSync(resolved, "utf8")
      .split("\n")
      .filter((entry) => shellWords(entry).length > 0);
    for (const entry of lines) await this.run(entry);
    return { line, steps: [], changes: [] };
  }

  /** `--policy-pack` and `--policy-pack-config`, paired in order as the CLI pairs them. */
  private policyPacks(values: Map<string, string[]>): PolicyPackOption[] {
    const cwd = this.options.cwd ?? process.cwd();
    const configs = values.get("--policy-pack-config") ?? [];
    return (values.get("--policy-pack") ?? []).map((dir, index) => ({
      dir: path.resolve(cwd, dir),
      ...(configs[index] ? { configFile: path.resolve(cwd, configs[index]) } : {}),
    }));
  }

  private async saving(
    line: string,
    command: () => Promise<{ state: EngineState; steps: Step[]; advisories?: PolicyDiagnostic[] }>,
  ) {
    try {
      const { state, steps, advisories } = await command();
      this.state = state;
      printAdvisories(advisories);
      return { line, steps, changes: steps.filter((step) => step.op !== "same"), advisories };
    } catch (error) {
      if (error instanceof EngineError) this.state = error.state;
      throw error;
    }
  }
}

/** As the CLI prints an advisory violation: a warning that does not fail the command. */
function printAdvisories(advisories: PolicyDiagnostic[] | undefined): void {
  for (const advisory of advisories ?? []) console.warn(describeDiagnostic(advisory));
}

// Flags that take a value; the others are switches.
const valued = new Set(["-s", "--stack", "--policy-pack", "--policy-pack-config", "--path-value"]);

function parseFlags(words: string[]): {
  positional: string[];
  flags: Set<string>;
  values: Map<string, string[]>;
} {
  const positional: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  for (let index = 0; index < words.length; index++) {
    const word = words[index];
    if (!word.startsWith("-")) positional.push(word);
    else if (valued.has(word)) {
      values.set(word, [...(values.get(word) ?? []), words[index + 1]]);
      index += 1;
    } else flags.add(word);
  }
  return { positional, flags, values };
}

/** `pulumi config set [--secret] [--path] <key> <value>` and `pulumi config rm [--path] <key>`. */
function configCommand(stack: StackSettings, positional: string[], flags: Set<string>): StackSettings {
  const [verb, fullKey, value] = positional;
  const key = fullKey.replace(/^npsmfa:/, "");
  const config = JSON.parse(JSON.stringify(stack.config)) as Record<string, unknown>;
  const secretKeys = new Set(stack.secretKeys ?? []);
  const pathParts = flags.has("--path") ? key.split(/\.|\[(\d+)\]/).filter((part) => part) : [key];
  const top = pathParts[0];
  let parent: Record<string, unknown> = config;
  // As the CLI does with --path: a map on the way that is not there yet is created.
  for (const part of pathParts.slice(0, -1)) parent = (parent[part] ??= {}) as Record<string, unknown>;
  const last = pathParts[pathParts.length - 1];
  if (verb === "set") {
    parent[last] = value;
    if (flags.has("--secret")) secretKeys.add(top);
  } else if (verb === "rm") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    throw new Error(`pulumiCli: pulumi config ${verb} is not modelled`);
  }
  return { config, secretKeys: [...secretKeys] };
}
