// Thin shell over Pulumi's config store: reads the raw text of every setting and which keys the stack
// keeps encrypted, then hands both to the pure parser. Synchronous, so bad config stops the program
// before a single resource is registered.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as pulumiConfigStore from "@pulumi/pulumi/runtime/config";
import {
  ConfigKey,
  configKeys,
  configNamespace,
  parseStackConfig,
  RawStackConfig,
  StackConfig,
} from "./schema";

// The SDK knows which keys the stack encrypts but marks the function internal (absent from its typings);
// tests/config/load.test.ts fails if a Pulumi upgrade removes it.
const { isConfigSecret } = pulumiConfigStore as unknown as { isConfigSecret(key: string): boolean };

export function readRawStackConfig(): RawStackConfig {
  const values: RawStackConfig["values"] = {};
  for (const key of configKeys) {
    const text = pulumi.runtime.getConfig(`${configNamespace}:${key}`);
    if (text !== undefined) values[key] = text;
  }
  const secretKeys = configKeys.filter((key: ConfigKey) => isConfigSecret(`${configNamespace}:${key}`));
  const known: readonly string[] = configKeys;
  const unknownKeys = Object.keys(pulumi.runtime.allConfig())
    .filter((fullKey) => fullKey.startsWith(`${configNamespace}:`))
    .map((fullKey) => fullKey.slice(configNamespace.length + 1))
    .filter((key) => !known.includes(key))
    .sort();
  return { values, secretKeys, unknownKeys, readFile: readProgramFile };
}

/** Reads a file a setting names; relative paths resolve from the program's folder, where Pulumi runs it. */
export function readProgramFile(file: string): Buffer {
  return fs.readFileSync(path.resolve(file));
}

export function loadStackConfig(): StackConfig {
  return parseStackConfig(readRawStackConfig());
}
