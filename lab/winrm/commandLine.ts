// What a lab host does with a cmd-shell command line: `powershell` invocations become a real pwsh run
// (arguments as an array, never through a shell), `echo` is answered directly, and anything else fails
// the way cmd.exe does. Pure; the spawning is in powershellRun.ts.

/** cmd.exe's limit on a command line. */
export const cmdLineLimit = 8191;

export type LabCommand =
  | { kind: "powershell"; source: "stdin" }
  | { kind: "powershell"; source: "text"; script: string }
  | { kind: "output"; stdout: string; stderr: string; exitCode: number };

/** Splits like the Windows C runtime: whitespace separates, double quotes group, \" is a quote. */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let quoted = false;
  let started = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (char === "\\" && line[index + 1] === '"') {
      current += '"';
      index++;
      started = true;
    } else if (char === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(char)) {
      if (started) tokens.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) tokens.push(current);
  return tokens;
}

const fail = (stderr: string, exitCode = 1): LabCommand => ({ kind: "output", stdout: "", stderr, exitCode });

/** Switches of powershell.exe that take a value and do not change what runs; matched by prefix. */
const valueSwitches = ["executionpolicy", "inputformat", "outputformat", "windowstyle", "configurationname"];
const flagSwitches = ["noprofile", "noninteractive", "nologo", "noexit", "sta", "mta"];

function matches(token: string, name: string, shortest = 2): boolean {
  const word = token.replace(/^[-/]/, "").toLowerCase();
  return word.length >= shortest && name.startsWith(word);
}

export function interpretCommandLine(command: string, args: string[] = []): LabCommand {
  const line = [command, ...args].join(" ");
  if (line.length > cmdLineLimit) return fail("The command line is too long.\r\n");
  const tokens = tokenize(line);
  const program = (tokens[0] ?? "").toLowerCase().replace(/^.*[\\/]/, "");
  if (program === "powershell" || program === "powershell.exe") return interpretPowerShell(tokens.slice(1));
  if (program === "echo")
    return { kind: "output", stdout: `${line.trim().slice(5)}\r\n`, stderr: "", exitCode: 0 };
  return fail(
    `'${tokens[0] ?? ""}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`,
  );
}

function interpretPowerShell(tokens: string[]): LabCommand {
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (!/^[-/]/.test(token))
      return { kind: "powershell", source: "text", script: tokens.slice(index).join(" ") };
    const lower = token.toLowerCase();
    if (lower === "-e" || lower === "-ec" || matches(token, "encodedcommand", 3)) {
      const encoded = tokens[index + 1] ?? "";
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
        return fail(
          "Cannot process the command because the value specified with -EncodedCommand is not properly encoded. The value must be Base64 encoded.\r\n",
          64,
        );
      }
      return {
        kind: "powershell",
        source: "text",
        script: Buffer.from(encoded, "base64").toString("utf16le"),
      };
    }
    if (lower === "-c" || matches(token, "command", 3)) {
      const rest = tokens.slice(index + 1);
      if (rest.length === 1 && rest[0] === "-") return { kind: "powershell", source: "stdin" };
      return { kind: "powershell", source: "text", script: rest.join(" ") };
    }
    if (valueSwitches.some((name) => matches(token, name)) || lower === "-ep" || lower === "-ex") {
      index++;
      continue;
    }
    if (flagSwitches.some((name) => matches(token, name, 3)) || lower === "-nop" || lower === "-noni")
      continue;
    return fail(`The lab's powershell does not support the switch ${token}.\r\n`, 64);
  }
  // Windows PowerShell with no command reads commands from stdin when it is redirected.
  return { kind: "powershell", source: "stdin" };
}
