// Runs PowerShell for a lab Windows host on this machine: real pwsh, the shim imported first, the host's
// state file in NPSMFA_HOST_STATE. What the lab WinRM server does per command, without the WS-Management
// hop, so provider tests can run before or beside it.
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PowerShellResult, PowerShellRunner } from "../../remote/hostScripts";
import { findPwsh, PwshCommand } from "../../scripts/powershell";
import { windowsShimModulePath } from "./hostState";

const repoRoot = path.resolve(__dirname, "..", "..");
let pwsh: PwshCommand | undefined;

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
      pwsh ??= findPwsh(repoRoot);
      if (!pwsh) throw new Error("lab host: PowerShell 7 not found (npm ci restores it through dotnet)");
      const file = path.join(os.tmpdir(), `npsmfa-lab-${crypto.randomUUID()}.ps1`);
      const shim = windowsShimModulePath.replace(/'/g, "''");
      fs.writeFileSync(file, `Import-Module '${shim}'\n${script}`);
      const { command, args } = pwsh;
      try {
        return await new Promise<PowerShellResult>((resolve, reject) => {
          const child = spawn(command, [...args, "-NoProfile", "-NonInteractive", "-File", file], {
            cwd: repoRoot,
            env: { ...process.env, NPSMFA_HOST_STATE: stateFile, NPSMFA_HOST_NAME: hostname },
          });
          let stdout = "";
          let stderr = "";
          const timer = setTimeout(() => child.kill(), timeoutMs);
          child.stdout.on("data", (chunk) => (stdout += chunk));
          child.stderr.on("data", (chunk) => (stderr += chunk));
          child.on("error", reject);
          child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ stdout, stderr, exitCode: code ?? -1 });
          });
        });
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
  };
}
