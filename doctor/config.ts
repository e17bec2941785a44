// Where the doctor's settings come from: a lab's lab.json, or a Pulumi stack's config as the Pulumi CLI
// decrypts it. Both go through the stack schema, so a bad setting gets the same message as in `pulumi up`.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigKey, configKeys, configNamespace, parseStackConfig, StackConfig } from "../config/schema";
import { labStackSettings, readLabDescription } from "../lab/stackFiles";

function parseSettings(settings: Record<string, unknown>, secretKeys: ConfigKey[]): StackConfig {
  const values: Partial<Record<ConfigKey, string>> = {};
  for (const key of configKeys) {
    const value = settings[`${configNamespace}:${key}`];
    if (value !== undefined) values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return parseStackConfig({ values, secretKeys });
}

export function labStackConfig(labDir: string): StackConfig {
  const file = path.join(labDir, "lab.json");
  if (!fs.existsSync(file))
    throw new Error(
      `--lab ${labDir}: expected a running lab's folder with lab.json, found no ${file}. Start one: npm run lab -- --dir ${labDir}`,
    );
  const lab = readLabDescription(file)!;
  // The lab's secrets live in lab.json itself; declared secret so the schema's plaintext check passes.
  return parseSettings(labStackSettings(lab, true), ["graph", "npsServers", "vpnServers"]);
}

/** `pulumi config --json --show-secrets`: { "npsmfa:key": { value, objectValue?, secret } }. */
export function pulumiStackConfig(stack: string, cwd: string): StackConfig {
  let text: string;
  try {
    text = execFileSync("pulumi", ["config", "--json", "--show-secrets", "--stack", stack], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new Error(
        `--stack ${stack}: the Pulumi CLI is not on PATH, and the doctor asks it for the stack's config. ` +
          "Install it (https://www.pulumi.com/docs/install/), or for a lab use --lab <dir>",
      );
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new Error(
      `--stack ${stack}: expected the Pulumi CLI to print the stack's config, found an error: ${detail}`,
    );
  }
  const entries = JSON.parse(text) as Record<
    string,
    { value?: string; objectValue?: unknown; secret?: boolean }
  >;
  const settings: Record<string, unknown> = {};
  const secretKeys: ConfigKey[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    settings[name] = entry.objectValue ?? entry.value;
    const key = name.slice(configNamespace.length + 1) as ConfigKey;
    if (entry.secret && configKeys.includes(key)) secretKeys.push(key);
  }
  return parseSettings(settings, secretKeys);
}
