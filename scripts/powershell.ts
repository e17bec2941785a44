// Where PowerShell 7 and Pester live: the repo's dotnet tool manifest and tools/pester.csproj restore
// them, so a fresh clone and CI use the same versions. A pwsh on PATH is used when present.
import { spawnSync } from "node:child_process";
import * as path from "node:path";

export interface PwshCommand {
  command: string;
  args: string[];
}

const pesterVersion = "6.2.0";

function answers(command: string, args: string[], cwd: string): boolean {
  const result = spawnSync(command, [...args, "-NoProfile", "-Command", "exit 0"], { cwd, stdio: "ignore" });
  return result.status === 0;
}

// Asking costs a PowerShell start (seconds): once per root and process.
const found = new Map<string, PwshCommand | undefined>();

/** pwsh on PATH, else `dotnet pwsh` from the repo's tool manifest; undefined if neither runs. */
export function findPwsh(root: string): PwshCommand | undefined {
  if (found.has(root)) return found.get(root);
  let pwsh: PwshCommand | undefined;
  if (answers("pwsh", [], root)) pwsh = { command: "pwsh", args: [] };
  else if (answers("dotnet", ["pwsh"], root)) pwsh = { command: "dotnet", args: ["pwsh"] };
  found.set(root, pwsh);
  return pwsh;
}

export function pesterModulePath(root: string): string {
  return path.join(root, "tools", ".packages", "pester", pesterVersion, "tools", "Pester.psd1");
}
