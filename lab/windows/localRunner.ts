// Runs PowerShell for a lab Windows host on this machine: real pwsh, the shim imported first, the host's
// state file in NPSMFA_HOST_STATE. What the lab WinRM server does per command (on the same warm workers), without the
// WS-Management hop, so provider tests can run before or beside it.
import * as path from "node:path";
import type { PowerShellResult, PowerShellRunner } from "../../remote/hostScripts";
import { findPwsh } from "../../scripts/powershell";
import { acquirePool, runToEnd, type PowerShellPool } from "../winrm/powershellPool";
import { hostEnvironment, windowsShimModulePath } from "./hostState";

const repoRoot = path.resolve(__dirname, "..", "..");
// Taken once and never released: its workers end with this process (their stdin closes).
let pool: PowerShellPool | undefined;

export interface LabHostRunner extends PowerShellRunner {
  /** Commands run so far: one per round trip. */
  readonly commands: string[];
}

export function labHostRunner(hostname: string, stateFile: string, timeoutMs = 60_000): LabHostRunner {
  const commands: string[] = [];
  return {
    commands,
    async runPowerShell(script: string): Promise<PowerShellResult> {
      commands.push(script);
      if (!pool) {
        const pwsh = findPwsh(repoRoot);
        if (!pwsh) throw new Error("lab host: PowerShell 7 not found (npm ci restores it through dotnet)");
        pool = acquirePool(pwsh, repoRoot);
      }
      const shim = windowsShimModulePath.replace(/'/g, "''");
      return runToEnd(
        pool,
        `Import-Module '${shim}'\n${script}`,
        hostEnvironment(hostname, stateFile),
        timeoutMs,
      );
    },
  };
}
