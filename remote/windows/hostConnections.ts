// One WinRM connection per Windows host within a process (the dynamic-provider host serves every resource
// of a stack), shared by all resources of that host: one TLS session and one NTLM handshake, one shell per
// burst of work, and host scripts that arrive together batched into one command (remote/hostBatch.ts).
// After a burst the shell is deleted, so a killed process leaves no shell on the server; the connection
// itself is closed after a minute without work.
import { createHash } from "node:crypto";
import type { WinrmEndpointConfig } from "../../config/schema";
import { HostScriptBatcher } from "../hostBatch";
import { WinrmClient } from "../winrm/client";

const idleCloseMs = 60_000;

interface HostConnection {
  client: WinrmClient;
  batcher: HostScriptBatcher;
  idleTimer?: NodeJS.Timeout;
}

const connections = new Map<string, HostConnection>();

/** Same host, same endpoint and credentials: same connection. The password enters the key only hashed. */
function keyOf(hostname: string, endpoint: WinrmEndpointConfig): string {
  const { password, ...rest } = endpoint;
  const secret = createHash("sha256")
    .update(password ?? "")
    .digest("hex");
  return JSON.stringify([hostname.toLowerCase(), rest, secret]);
}

/** The batcher that runs host scripts on `hostname` over its shared connection. */
export function hostScriptsOn(hostname: string, endpoint: WinrmEndpointConfig): HostScriptBatcher {
  const key = keyOf(hostname, endpoint);
  const existing = connections.get(key);
  if (existing) {
    clearTimeout(existing.idleTimer);
    existing.idleTimer = undefined;
    return existing.batcher;
  }
  const { password, ...endpointInputs } = endpoint;
  const client = new WinrmClient({ hostname, endpoint: endpointInputs, password });
  const connection: HostConnection = {
    client,
    batcher: new HostScriptBatcher(hostname, client, {
      idle: async () => {
        await client.endShell();
        clearTimeout(connection.idleTimer);
        connection.idleTimer = setTimeout(() => {
          connections.delete(key);
          void client.close().catch(() => undefined);
        }, idleCloseMs);
        // Waiting to close must not keep a finished process alive.
        connection.idleTimer.unref();
      },
    }),
  };
  connections.set(key, connection);
  return connection.batcher;
}

/** HTTP exchanges of the shared connection to a host so far (the bench and tests count them). */
export function exchangesWith(hostname: string, endpoint: WinrmEndpointConfig): number {
  return connections.get(keyOf(hostname, endpoint))?.client.exchanges ?? 0;
}

/** Closes every shared connection (tests, the bench). */
export async function closeHostConnections(): Promise<void> {
  const all = [...connections.values()];
  connections.clear();
  await Promise.all(
    all.map((connection) => {
      clearTimeout(connection.idleTimer);
      return connection.client.close().catch(() => undefined);
    }),
  );
}
