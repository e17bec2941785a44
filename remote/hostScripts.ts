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
  "NpsExtensionInstall",
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
  NpsExtensionInstall: fs.readFileSync(path.join(scriptsDir, "NpsExtensionInstall.ps1"), "utf8"),
  Doctor: fs.readFileSync(path.join(scriptsDir, "Doctor.ps1"), "utf8"),
};

/**
 * PowerShell that records what IAS runs now, as IasRestart.ps1 does after a healthy restart: the lab seeds a
 * server npsmfa manages with it.
 */
export function iasLoadedRecordCommand(): string {
  return `${iasLoaded}\n${hostFacts}\nSet-IasLoadedMarker\n`;
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

/** One script with its data: what a provider asks of a host. */
export interface HostScriptRequest {
  name: HostScriptName;
  data: unknown;
}

// Every script ends with `exit $script:HostScriptExitCode`; in a batch only the last line of the command exits.
const finalExit = /\r?\nexit \$script:HostScriptExitCode\s*$/;
const scriptBodies = Object.fromEntries(
  hostScriptNames.map((name) => {
    if (!finalExit.test(scriptSources[name]))
      throw new Error(`remote/scripts/${name}.ps1 must end with: exit $script:HostScriptExitCode`);
    return [name, scriptSources[name].replace(finalExit, "\n")];
  }),
) as Record<HostScriptName, string>;

function inputAssignment(data: unknown): string {
  const inputBase64 = Buffer.from(JSON.stringify(data), "utf8").toString("base64");
  if (!/^[A-Za-z0-9+/=]*$/.test(inputBase64))
    throw new Error("base64 produced a character outside its alphabet");
  return `$InputBase64 = '${inputBase64}'`;
}

/**
 * The command text for one or more script runs on one host, in one PowerShell command: the fixed prelude,
 * IasLoaded.ps1 and HostFacts.ps1 once, then per request a single assignment of its base64 data (whose
 * alphabet cannot close the quotes) and the script, each printing its own JSON document in request order;
 * the command exits 1 when any failed. Whatever the data holds, the script text is the same. Before a
 * `set` of what IAS loads, a server without an IAS record gets one, so a run that stops after the change
 * still leaves the restart pending on the server.
 */
export function hostScriptBatchCommand(requests: readonly HostScriptRequest[]): string {
  const run = ({ name, data }: HostScriptRequest) => {
    const mode = (data as { mode?: unknown } | null)?.mode;
    const recordFirst =
      changesWhatIasLoads.includes(name) && mode === "set" ? "Initialize-IasLoadedMarker\n" : "";
    return `${recordFirst}${scriptBodies[name]}`;
  };
  const [first, ...rest] = requests;
  return [
    inputAssignment(first.data),
    prelude,
    iasLoaded,
    hostFacts,
    run(first),
    ...rest.map((request) => `${inputAssignment(request.data)}\n${run(request)}`),
    "exit $script:HostScriptExitCode",
  ].join("\n");
}

/** The command text for one script run (a batch of one). */
export function hostScriptCommand(name: HostScriptName, data: unknown): string {
  return hostScriptBatchCommand([{ name, data }]);
}

interface HostScriptDocument {
  ok: boolean;
  script?: string;
  result?: unknown;
  error?: HostScriptFailure;
}

/** The JSON documents in a command's stdout, in order: lines that parse as one of ours. */
function parseDocuments(stdout: string): HostScriptDocument[] {
  const documents: HostScriptDocument[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (!line.trim().startsWith("{")) continue;
    try {
      const document = JSON.parse(line);
      if (typeof document === "object" && document !== null && typeof document.ok === "boolean")
        documents.push(document);
    } catch {
      // Not our document: a line some cmdlet printed; keep looking.
    }
  }
  return documents;
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

export type HostScriptOutcome = { ok: true; result: unknown } | { ok: false; error: HostScriptError };

/**
 * Runs several scripts on one host in one PowerShell command (one round trip) and returns each one's
 * result or HostScriptError, in request order. A request whose document is missing (the command died
 * before it) fails with the exit code and stderr.
 */
export async function runHostScripts(
  runner: PowerShellRunner,
  hostname: string,
  requests: readonly HostScriptRequest[],
): Promise<HostScriptOutcome[]> {
  const { stdout, stderr, exitCode } = await runner.runPowerShell(hostScriptBatchCommand(requests));
  const documents = parseDocuments(stdout);
  const allOk = documents.length === requests.length && documents.every((document) => document.ok);
  return requests.map(({ name }, index): HostScriptOutcome => {
    const document = documents[index];
    const fail = (failure: HostScriptFailure): HostScriptOutcome => ({
      ok: false,
      error: new HostScriptError(hostname, name, failure),
    });
    if (document === undefined || (document.script !== undefined && document.script !== name)) {
      return fail({
        step: "run",
        code: "NoResult",
        message:
          `exit code ${exitCode} and no JSON result on stdout` +
          (stderr.trim() ? `; stderr: ${stderrSummary(stderr)}` : "") +
          ". Is the host running Windows PowerShell 5.1 or later, and did the command reach it?",
      });
    }
    if (!document.ok)
      return fail(document.error ?? { step: "run", code: "Failed", message: `exit code ${exitCode}` });
    // Every document ok and still a failing exit code: something outside the scripts failed.
    if (allOk && exitCode !== 0)
      return fail({ step: "run", code: "Failed", message: `exit code ${exitCode}` });
    return { ok: true, result: document.result };
  });
}

/** Runs one host script and returns its result, or throws HostScriptError naming host, script and step. */
export async function runHostScript<T>(
  runner: PowerShellRunner,
  hostname: string,
  name: HostScriptName,
  data: unknown,
): Promise<T> {
  const [outcome] = await runHostScripts(runner, hostname, [{ name, data }]);
  if (!outcome.ok) throw outcome.error;
  return outcome.result as T;
}
