// What our commands (`npm run lab`, `npm run doctor`, `npm run demo`) share about their command line:
// `--help` and `-h` print the usage with every option, its default and an example; an unknown option is
// named with the valid ones; a failure prints one line with the command's name once, never a stack.
import { parseArgs } from "node:util";

export interface OptionHelp {
  type: "string" | "boolean";
  /** How the value is shown in the usage (`<folder>`); string options only. */
  value?: string;
  default?: string | boolean;
  help: string;
}

export interface CommandHelp {
  /** As a person types it: `npm run lab`. */
  name: string;
  /** The usage lines' arguments, after `<name> --`. */
  synopsis: string[];
  description: string;
  options: Record<string, OptionHelp>;
  examples: string[];
}

/** Bad input on the command line: the command prints it and exits 2. */
export class UsageError extends Error {}

/** Usage lines fit an 80-column terminal. */
const width = 80;

/** Words of `text` in lines of at most `width` - `indent` characters, each after `indent` spaces. */
function wrap(text: string, indent: number, first = " ".repeat(indent)): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/)) {
    if (line.trim() !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = " ".repeat(indent);
    }
    line += line.trim() === "" && line.length === indent ? word : ` ${word}`;
  }
  return [...lines, line];
}

export function usageText(command: CommandHelp): string {
  const column = 27;
  const option = (left: string, help: string) => wrap(help, column, `  ${left}`.padEnd(column - 1));
  const options = Object.entries(command.options).flatMap(([name, entry]) =>
    option(
      `--${name}${entry.value ? ` ${entry.value}` : ""}`,
      `${entry.help}${entry.default === undefined || entry.default === false ? "" : ` (default: ${String(entry.default)})`}`,
    ),
  );
  const lead = `usage: ${command.name} -- `;
  return [
    ...command.synopsis.map((line, index) => `${index === 0 ? lead : " ".repeat(lead.length)}${line}`),
    "",
    ...wrap(command.description, 0),
    "",
    "options:",
    ...options,
    ...option("-h, --help", "this text"),
    "",
    command.examples.length === 1 ? "example:" : "examples:",
    ...command.examples.map((example) => `  ${example}`),
  ].join("\n");
}

type ParsedValues = Record<string, string | boolean | undefined>;

/**
 * parseArgs with the command's options and `-h`/`--help`; its errors become UsageErrors that name the
 * option and list the valid ones. `help` is true when the person asked for the usage.
 */
export function parseCommandLine(
  command: CommandHelp,
  argv: string[],
  allowPositionals = false,
): { help: boolean; values: ParsedValues; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, option]) => [
      name,
      { type: option.type, ...(option.default === undefined ? {} : { default: option.default }) },
    ]),
  ) as Record<string, { type: "string" | "boolean"; default?: string | boolean }>;
  const valid = [...Object.keys(command.options).map((name) => `--${name}`), "--help"].join(", ");
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h", default: false } },
      allowPositionals,
      strict: true,
    }) as { values: ParsedValues; positionals: string[] };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const quoted = /'([^']+)'/.exec((error as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
      throw new UsageError(`unknown option ${quoted}; the options are ${valid}`);
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
      throw new UsageError(`unexpected argument ${JSON.stringify(quoted)}; the options are ${valid}`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE")
      throw new UsageError(`${firstSentence((error as Error).message)} (--help shows every option)`);
    throw error;
  }
  const { help, ...values } = parsed.values;
  return { help: help === true, values, positionals: parsed.positionals };
}

function firstSentence(text: string): string {
  return text.split(/(?<=\.)\s/)[0].replace(/\.$/, "");
}

/**
 * Runs a command's main. A number it returns ends the process with that code; undefined leaves it running
 * (a lab). On an error: one line on stderr, the command's name said once, no stack, and exit 2 for a
 * UsageError (with a pointer to --help), else `failureCode`.
 */
export function runCommand(name: string, main: () => Promise<number | undefined>, failureCode = 1): void {
  main().then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const usage = error instanceof UsageError;
      console.error(
        `${name}: ${message}${usage && !message.includes("--help") ? " (--help lists the options)" : ""}`,
      );
      process.exit(usage ? 2 : failureCode);
    },
  );
}
