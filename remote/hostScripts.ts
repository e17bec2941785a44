// The thin shell between providers and remote/scripts/*.ps1: compose a fixed script with its data as
// base64 JSON, run it on a host in one PowerShell command, and parse its one JSON document, or throw an
// error that names the host, the script, the step and what failed. Data never becomes script text.
import * as fs from "node:fs";
import * as path from "node:path";

export const hostScriptNames = [
  "NpsCertificate",
  "NpsExtensionSettings",
  "RadiusTimeout",
  "IasRestart",
  "Doctor",
] as const;
export type HostScriptName = (typeof hostScriptNames)[number];

export interface PowerShellResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs PowerShell text on one host (over WinRM, or a lab host): one call = one round trip. */
export interface PowerShellRunner {
  runPowerShell(script: string): Promise<PowerShellResult>;
}

// Read once when this module loads, from the project the provider host runs in (providers/seam.ts).
const scriptsDir = path.join(__dirname, "scripts");
const prelude = fs.readFileSync(path.join(scriptsDir, "Prelude.ps1"), "utf8");
const iasLoaded = fs.readFileSync(path.join(scriptsDir, "IasLoaded.ps1"), "utf8");
const hostFacts = fs.readFileSync(path.join(scriptsDir, "HostFacts.ps1"), "utf8");
const scriptSources: Record<HostScriptName, string> = {
  NpsCertificate: fs.readFileSync(path.join(scriptsDir, "NpsCertificate.ps1"), "utf8"),
  NpsExtensionSettings: fs.readFileSync(path.join(scriptsDir, "NpsExtensionSettings.ps1"), "utf8"),
  RadiusTimeout: fs.readFileSync(path.join(scriptsDir, "RadiusTimeout.ps1"), "utf8"),
  IasRestart: fs.readFileSync(path.join(scriptsDir, "IasRestart.ps1"), "utf8"),
  Doctor: fs.readFileSync(path.join(scriptsDir, "Doctor.ps1"), "utf8"),
};

/**
 * PowerShell that records what IAS runs now, as IasRestart.ps1 does after a healthy restart: the lab seeds a
 * server npsmfa manages with it.
 */
export function iasLoadedRecordCommand(): string {
  return `${iasLoaded}\nSet-IasLoadedMarker\n`;
}

/** The structured error a host script prints when it fails. */
export interface HostScriptFailure {
  step: string;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class HostScriptError extends Error {
  constructor(
    readonly hostname: string,
    readonly script: HostScriptName,
    readonly failure: HostScriptFailure,
  ) {
    const message = `${hostname}: ${script}.ps1 failed at "${failure.step}" (${failure.code}): ${failure.message}`;
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "HostScriptError";
  }
}

/** Scripts whose `set` changes what IAS loads at start: the IAS record is made before they change it. */
const changesWhatIasLoads: HostScriptName[] = ["NpsCertificate", "NpsExtensionSettings"];

/**
 * The command text for one script run: a single assignment of base64 (whose alphabet cannot close the
 * quotes), then the fixed prelude, IasLoaded.ps1, HostFacts.ps1 and the script. Whatever the data holds, the script
 * text is the same. Before a `set` of what IAS loads, a server without an IAS record gets one, so a run
 * that stops after the change still leaves the restart pending on the server.
 */
export function hostScriptCommand(name: HostScriptName, data: unknown): string {
  const inputBase64 = Buffer.from(JSON.stringify(data), "utf8").toString("base64");
  if (!/^[A-Za-z0-9+/=]*$/.test(inputBase64))
    throw new Error("base64 produced a character outside its alphabet");
  const mode = (data as { mode?: unknown } | null)?.mode;
  const recordFirst =
    changesWhatIasLoads.includes(name) && mode === "set" ? "Initialize-IasLoadedMarker\n" : "";
  return `$InputBase64 = '${inputBase64}'\n${prelude}\n${iasLoaded}\n${hostFacts}\n${recordFirst}${scriptSources[name]}`;
}

/** The JSON document in a script's stdout: the last line that parses as one of ours. */
function parseDocument(
  stdout: string,
): { ok: boolean; result?: unknown; error?: HostScriptFailure } | undefined {
  const lines = stdout.split(/\r?\n/).filter((line) => line.trim().startsWith("{"));
  for (const line of lines.reverse()) {
    try {
      const document = JSON.parse(line);
      if (typeof document === "object" && document !== null && typeof document.ok === "boolean")
        return document;
    } catch {
      // Not our document: a line some cmdlet printed; keep looking.
    }
  }
  return undefined;
}

/** First line of stderr, with PowerShell's CLIXML wrapper removed, for error text. */
function stderrSummary(stderr: string): string {
  const text = stderr
    .replace(/^#< CLIXML\s*/, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/_x000D__x000A_/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/** Runs one host script and returns its result, or throws HostScriptError naming host, script and step. */
export async function runHostScript<T>(
  runner: PowerShellRunner,
  hostname: string,
  name: HostScriptName,
  data: unknown,
): Promise<T> {
  const { stdout, stderr, exitCode } = await runner.runPowerShell(hostScriptCommand(name, data));
  const document = parseDocument(stdout);
  if (document === undefined) {
    throw new HostScriptError(hostname, name, {
      step: "run",
      code: "NoResult",
      message:
        `exit code ${exitCode} and no JSON result on stdout` +
        (stderr.trim() ? `; stderr: ${stderrSummary(stderr)}` : "") +
        ". Is the host running Windows PowerShell 5.1 or later, and did the command reach it?",
    });
  }
  if (!document.ok || exitCode !== 0) {
    throw new HostScriptError(
      hostname,
      name,
      document.error ?? { step: "run", code: "Failed", message: `exit code ${exitCode}` },
    );
  }
  return document.result as T;
}
