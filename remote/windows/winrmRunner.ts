// PowerShell over WinRM for the Windows providers: adapts the WS-Management client (remote/winrm/) to the
// PowerShellRunner that remote/hostScripts.ts runs scripts with.
//
// INTEGRATION POINT (WinRM engineer's client): remote/winrm/ has no command client committed yet. When it
// lands, build its client from `endpoint` (URL, auth, username, password, caFile/thumbprint, client
// certificate, operationTimeoutSeconds) here and run `script` as one command (long scripts over stdin),
// returning stdout, stderr and the exit code. Nothing else in the providers changes.
import type { WinrmEndpointConfig } from "../../config/schema";
import type { PowerShellRunner } from "../hostScripts";

export function winrmRunner(hostname: string, endpoint: WinrmEndpointConfig): PowerShellRunner {
  return {
    async runPowerShell(): Promise<never> {
      throw new Error(
        `${hostname}: cannot reach ${endpoint.url}: the WinRM client is not wired into the Windows providers yet ` +
          "(remote/windows/winrmRunner.ts).",
      );
    },
  };
}
