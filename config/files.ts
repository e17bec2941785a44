// The files a stack names (CA bundles, client certificate and key) must exist and hold what they claim,
// or the program stops before preview with one message, instead of a raw ENOENT from deep inside a
// provider. Pure given the reader, so tests need no files; config/load.ts passes the real one.
import * as crypto from "node:crypto";
import { configNamespace } from "./keys";

/** Reads a file as the program would; throws as fs.readFileSync does. */
export type FileReader = (path: string) => Buffer;

type FileKind = "certificate" | "privateKey";

const winrmFileSettings: [string, FileKind, string][] = [
  ["caFile", "certificate", "a PEM CA certificate file"],
  ["clientCertFile", "certificate", "a PEM client certificate file"],
  ["clientKeyFile", "privateKey", "a PEM private key file (unencrypted)"],
];

function unreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "does not exist";
  if (code === "EISDIR") return "is a folder";
  if (code === "EACCES" || code === "EPERM") return "is not readable by this user";
  return `could not be read (${code ?? "unknown error"})`;
}

/** What is wrong with the file's content, or undefined. Never quotes the content: a key is secret. */
function contentProblem(text: string, kind: FileKind): string | undefined {
  if (kind === "privateKey") {
    try {
      crypto.createPrivateKey(text);
      return undefined;
    } catch {
      return "holds no private key that can be read (PEM, not encrypted)";
    }
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
  try {
    for (const block of blocks) new crypto.X509Certificate(block);
    return undefined;
  } catch {
    return "holds a certificate that does not parse";
  }
}

function fileProblem(path: string, kind: FileKind, read: FileReader): string | undefined {
  let text: string;
  try {
    text = read(path).toString("utf8");
  } catch (error) {
    return unreadable(error);
  }
  return contentProblem(text, kind);
}

/**
 * Checks every file setting in the raw input: `graph.caFile` and the `winrm` files of every server
 * list, whatever lists the schema has. Entries that are not text are left to the schema's messages.
 */
export function fileSettingProblems(input: Record<string, unknown>, read: FileReader): string[] {
  const problems: string[] = [];
  const check = (setting: string, host: string | undefined, value: unknown, kind: FileKind, what: string) => {
    if (typeof value !== "string" || value === "") return;
    const problem = fileProblem(value, kind, read);
    if (problem === undefined) return;
    problems.push(
      `${configNamespace}:${setting}${host ? ` (host ${host})` : ""}: expected ${what}, found ` +
        `${JSON.stringify(value)}, which ${problem}. Fix the path (relative paths are from the project folder)`,
    );
  };
  const graph = input.graph as Record<string, unknown> | undefined;
  check("graph.caFile", undefined, graph?.caFile, "certificate", "a PEM CA certificate file");
  for (const [list, servers] of Object.entries(input)) {
    if (!Array.isArray(servers)) continue;
    servers.forEach((server: unknown, index) => {
      const entry = server as { hostname?: unknown; winrm?: Record<string, unknown> } | null;
      if (!entry?.winrm || typeof entry.winrm !== "object") return;
      const host = typeof entry.hostname === "string" ? entry.hostname : undefined;
      for (const [key, kind, what] of winrmFileSettings) {
        check(`${list}[${index}].winrm.${key}`, host, entry.winrm[key], kind, what);
      }
    });
  }
  return problems;
}
