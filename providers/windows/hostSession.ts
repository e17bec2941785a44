// What each Windows provider holds at run time: the stack's config read in `configure` (WinRM passwords as
// the engine decrypted them), and how to reach a host. Nothing is set when Pulumi serializes the provider,
// so no secret travels into state with it.
import type * as pulumi from "@pulumi/pulumi";
import { readProviderConfig, winrmEndpointFor } from "../../config/providerConfig";
import type { StackConfig, WinrmEndpointConfig } from "../../config/schema";
import { HostScriptName, PowerShellRunner, runHostScript } from "../../remote/hostScripts";
import { hostScriptsOn } from "../../remote/windows/hostConnections";
import { tellOperator } from "../entra/log";

/** How to reach a host; tests pass one that runs lab hosts locally. */
export type RunnerFactory = (hostname: string, endpoint: WinrmEndpointConfig | undefined) => PowerShellRunner;

export interface RunOptions {
  /**
   * A floor for winrm.operationTimeoutSeconds, for a script that is slow by nature (an installer): a longer
   * budget means a connection of its own (remote/windows/hostConnections.ts keys them by endpoint).
   */
  minimumOperationSeconds?: number;
}

export class WindowsHostSession {
  private config?: StackConfig;

  constructor(private readonly runnerFor?: RunnerFactory) {}

  configure(req: pulumi.dynamic.ConfigureRequest): void {
    this.config = readProviderConfig(req.config);
  }

  /**
   * True, after telling the operator once, when the configured stack no longer has the host: its
   * resources are then forgotten and the host is not contacted. A refresh configures providers with the
   * config saved at the last `up` (docs/engine.md), so this is the case once an `up` saved a config
   * without the server and some of its resources are still in state.
   */
  forgets(hostname: string, resourceType: string): boolean {
    if (!this.config || this.runnerFor) return false;
    const wanted = hostname.toLowerCase();
    const servers = [...this.config.npsServers, ...this.config.vpnServers];
    if (servers.some((server) => server.hostname.toLowerCase() === wanted)) return false;
    tellOperator(
      `${hostname}: not in npsmfa:npsServers or npsmfa:vpnServers any more: its ${resourceType} is forgotten ` +
        "(removed from the stack's state); nothing on the server was read or changed.",
    );
    return true;
  }

  /**
   * Runs one host script on a host over the host's shared connection; scripts for the same host that
   * arrive together share one round trip (remote/hostBatch.ts). A test's runner runs each on its own.
   */
  run<T>(hostname: string, script: HostScriptName, data: unknown, options: RunOptions = {}): Promise<T> {
    const endpoint = this.config ? winrmEndpointFor(this.config, hostname) : undefined;
    if (this.runnerFor) return runHostScript<T>(this.runnerFor(hostname, endpoint), hostname, script, data);
    if (!endpoint) {
      throw new Error(
        `${hostname}: the Windows provider was not configured: the Pulumi engine did not call configure with ` +
          "the stack's config (npsmfa:npsServers, npsmfa:vpnServers). Run it through `pulumi up` / `pulumi preview`.",
      );
    }
    const seconds = Math.max(endpoint.operationTimeoutSeconds, options.minimumOperationSeconds ?? 0);
    return hostScriptsOn(hostname, { ...endpoint, operationTimeoutSeconds: seconds }).run<T>(script, data);
  }
}
