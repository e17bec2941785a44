import type { RunnerFactory } from "./hostSession";

/** Construction options of the Windows providers; production passes none (hosts are reached over WinRM). */
export interface WindowsProviderOptions {
  /** How to reach a host instead of WinRM: tests drive lab hosts with it. Never serialized in production. */
  runnerFor?: RunnerFactory;
}

const hostnamePattern = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;

/** A check failure for a missing or malformed host name, or none. */
export function hostnameFailure(hostname: unknown): { property: string; reason: string }[] {
  if (typeof hostname === "string" && hostnamePattern.test(hostname)) return [];
  return [{ property: "hostname", reason: `expected a DNS host name, found ${JSON.stringify(hostname)}` }];
}
