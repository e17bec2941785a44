// What a person reads in the demo: each resource of a preview in domain words, each drifted setting as
// its live value and the declared one, and the events a failed dial left. Pure: values in, lines out.
import { dynamicTypeNames } from "../providers/resourceTypes";
import { eventLine } from "../lab/windows/eventLog";
import type { HostEvent } from "../lab/windows/hostState";

/** One resource of a preview or an up, as either engine reports it (see demo/driver.ts). */
export interface ResourceChange {
  name: string;
  type: string;
  /** `same`, `create`, `update`, `replace`, `delete` (and `refresh` from the Pulumi CLI). */
  op: string;
  properties: string[];
  /** Properties whose new value is known only once an earlier step ran. */
  unknown: string[];
  /** The state before: after a refresh, what was read live. */
  old?: { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
  /** The declared inputs. */
  new?: { inputs: Record<string, unknown> };
}

type Values = Record<string, unknown>;

const typeOf = (type: string) => type.split(":").pop() ?? type;
const text = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** Short enough for one line; thumbprints and keys are long and say little to a person here. */
function shorten(value: unknown): string {
  if (value === undefined || value === null || value === "") return "(not set)";
  const shown = text(value);
  return shown.length > 48 ? `${shown.slice(0, 45)}...` : shown;
}

/** What a resource declares, in one line: what a create will make true. */
export function declaredSummary(change: ResourceChange): string {
  const inputs: Values = change.new?.inputs ?? {};
  const host = String(inputs.hostname ?? inputs.npsHostname ?? "");
  switch (typeOf(change.type)) {
    case dynamicTypeNames.servicePrincipalEnabled:
      return `${inputs.displayName} (appId ${inputs.appId}) exists and is enabled`;
    case dynamicTypeNames.radiusTimeout:
      return `${host}: RADIUS timeout ${inputs.timeoutSeconds} s for ${(inputs.npsServers as string[]).join(", ")}`;
    case dynamicTypeNames.npsExtensionSettings:
      // The settings name the certificate's thumbprint: unknown until the certificate step ran.
      return typeof inputs.settings === "object" && inputs.settings !== null
        ? `${host}: AzureMfa registry ${Object.keys(inputs.settings).join(", ")}`
        : `${host}: the extension's registry values under HKLM\\SOFTWARE\\Microsoft\\AzureMfa (known once its certificate is)`;
    case dynamicTypeNames.npsExtensionInstall:
      return `${host}: the NPS extension ${inputs.minimumVersion ? `${inputs.minimumVersion} or later` : "installed"}, from ${(inputs.installer as { source?: string } | undefined)?.source}`;
    case dynamicTypeNames.npsCertificate:
      return `${host}: a certificate for CN=${inputs.tenantId}, its key readable by NETWORK SERVICE`;
    case dynamicTypeNames.npsCertificateCredential:
      return `${host}'s certificate registered on the MFA Client service principal`;
    case dynamicTypeNames.npsSupersededKeys:
      return `${host}'s older keys leave the Client once IAS runs the new certificate`;
    case dynamicTypeNames.iasRestart:
      return (
        `${host}: IAS restarts when what it loads changed` +
        (inputs.previousHostname ? `, after ${inputs.previousHostname}'s restart` : "")
      );
    default:
      return "a component: the resources below";
  }
}

/** Each drifted setting of an update: `<where> <setting>: <live> -> <declared>`. */
export function driftLines(change: ResourceChange): string[] {
  const live: Values = { ...(change.old?.outputs ?? {}), ...(change.old?.inputs ?? {}) };
  const liveOutputs: Values = change.old?.outputs ?? {};
  const declared: Values = change.new?.inputs ?? {};
  const host = String(declared.hostname ?? declared.npsHostname ?? change.name);
  const lines: string[] = [];
  const kind = typeOf(change.type);
  if (kind === dynamicTypeNames.iasRestart) {
    // Its properties only say why it restarts: one line for a person.
    return change.properties.includes("restartPending")
      ? [`${host} IAS: has not loaded what the server holds now -> restarted`]
      : [`${host} IAS: what it loads changes -> restarted`];
  }
  for (const property of change.properties) {
    if (change.unknown.includes(property)) {
      lines.push(`${change.name} ${property}: (computed), known once the steps before it ran`);
      continue;
    }
    if (kind === dynamicTypeNames.radiusTimeout && property === "timeoutSeconds") {
      const timeouts = (liveOutputs.liveTimeouts as Record<string, number> | undefined) ?? {};
      const short = Object.entries(timeouts).filter(
        ([, seconds]) => seconds < Number(declared.timeoutSeconds),
      );
      for (const [entry, seconds] of short) {
        const server = entry.replace(/^rras:/, "").replace(/^nps-group:/, "remote server group ");
        lines.push(`${host} RADIUS timeout for ${server}: ${seconds} s -> ${declared.timeoutSeconds} s`);
      }
      if (short.length > 0) continue;
    }
    if (kind === dynamicTypeNames.servicePrincipalEnabled && property === "accountEnabled") {
      const state = (enabled: unknown) => (enabled === true ? "enabled" : "disabled");
      lines.push(
        `${declared.displayName}: ${state(live.accountEnabled)} -> ${state(declared.accountEnabled)}`,
      );
      continue;
    }
    if (kind === dynamicTypeNames.npsExtensionSettings && property === "settings") {
      const before = (live.settings as Record<string, string> | undefined) ?? {};
      const after = (declared.settings as Record<string, string> | undefined) ?? {};
      for (const key of Object.keys(after).filter((name) => before[name] !== after[name])) {
        lines.push(`${host} AzureMfa ${key}: ${shorten(before[key])} -> ${shorten(after[key])}`);
      }
      continue;
    }
    if (kind === dynamicTypeNames.npsCertificateCredential && property === "status") {
      lines.push(
        `${host}'s certificate on the MFA Client: ${shorten(live.status)} -> ${shorten(declared.status)}`,
      );
      continue;
    }
    lines.push(`${change.name} ${property}: ${shorten(live[property])} -> ${shorten(declared[property])}`);
  }
  return lines;
}

const opMarks: Record<string, string> = { create: "+", update: "~", replace: "+-", delete: "-", same: " " };

/**
 * A preview, resource by resource: creates with what they declare, updates with each drifted value; the
 * resources it leaves as they are in one line at the end ("11 unchanged").
 */
export function previewLines(changes: ResourceChange[]): string[] {
  const lines: string[] = [];
  const unchanged = changes.filter((change) => change.op === "same").length;
  for (const change of changes.filter((entry) => entry.op !== "same")) {
    const mark = opMarks[change.op] ?? "?";
    const head = `${mark} ${change.op.padEnd(7)} ${change.name} (${typeOf(change.type)})`;
    if (change.op === "create") lines.push(`${head}: ${declaredSummary(change)}`);
    else lines.push(head);
    if (change.op === "update" || change.op === "replace")
      lines.push(...driftLines(change).map((line) => `      ${line}`));
  }
  return unchanged > 0 ? [...lines, `  ${unchanged} unchanged`] : lines;
}

/** A dial's events, one line each (lab/windows/eventLog.ts, eventLine). */
export function eventLines(events: { host: string; event: HostEvent }[]): string[] {
  return events.map(({ host, event }) => eventLine(host, event));
}
