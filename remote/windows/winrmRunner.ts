// PowerShell over WinRM for the Windows providers: one WinrmClient per script run (one round trip per
// host per phase), closed afterwards so no shell is left open on the host.
import type { WinrmEndpointConfig } from "../../config/schema";
import type { PowerShellResult, PowerShellRunner } from "../hostScripts";
import { WinrmClient } from "../winrm/client";

export function winrmRunner(hostname: string, endpoint: WinrmEndpointConfig): PowerShellRunner {
  return {
    async runPowerShell(script: string): Promise<PowerShellResult> {
      const { password, ...endpointInputs } = endpoint;
      const client = new WinrmClient({ hostname, endpoint: endpointInputs, password });
      try {
        return await client.runPowerShell(script);
      } finally {
        await client.close().catch(() => undefined);
      }
    },
  };
}
