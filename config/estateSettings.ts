// Settings handed over as an object by a program (rather than read from `npsmfa:` stack config), validated
// by the same schema, with the same one error that names every problem.
import { FileReader } from "./files";
import { configKeys } from "./keys";
import { EstateSettings, parseStackConfig, StackConfig } from "./schema";

export function parseEstateSettings(settings: EstateSettings, readFile?: FileReader): StackConfig {
  const known: readonly string[] = configKeys;
  const values: Record<string, string> = {};
  const unknownKeys: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    if (!known.includes(key)) unknownKeys.push(key);
    else values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  // An object in a program is no stack file: a password in it is not one committed in plain text.
  return parseStackConfig({ values, secretKeys: [...configKeys], unknownKeys: unknownKeys.sort(), readFile });
}
