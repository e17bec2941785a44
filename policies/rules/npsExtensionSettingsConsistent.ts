// NPS servers behind one VPN are interchangeable to its users: a setting that differs between them makes MFA
// fail on one server only, the hardest outage to see.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dynamicTypeNames, NpsExtensionSettingsInputs } from "../../providers/resourceTypes";
import { describeResource, resourcesOfType, violationMessage, whenKnown, withDefaults } from "./support";

export interface NpsExtensionSettingsConsistentConfig {
  /** Registry value names that are meant to differ per server. */
  perHostSettings: string[];
}

export const npsExtensionSettingsConsistentDefaults: NpsExtensionSettingsConsistentConfig = {
  // The certificate thumbprint the extension pins: one certificate per server.
  perHostSettings: ["CLIENT_CERT_IDENTIFIER"],
};

interface HostSettings {
  resource: PolicyResource;
  host: string;
  /** Known values only; a value computed during this update is left out of the comparison. */
  values: Map<string, string>;
}

function readHostSettings(resource: PolicyResource, perHost: Set<string>): HostSettings | undefined {
  const props = resource.props as Partial<NpsExtensionSettingsInputs>;
  const settings = whenKnown(() => props.settings);
  if (settings === undefined) return undefined;
  const values = new Map<string, string>();
  for (const name of Object.keys(settings)) {
    if (perHost.has(name.toUpperCase())) continue;
    const value = whenKnown(() => settings[name]);
    if (value !== undefined) values.set(name.toUpperCase(), String(value));
  }
  return { resource, host: whenKnown(() => props.hostname) ?? resource.name, values };
}

/** Servers of one tenant are compared; without a TENANT_ID in sight every server counts as the same tenant. */
function groupByTenant(hosts: HostSettings[]): HostSettings[][] {
  const tenants = new Set(hosts.map((host) => host.values.get("TENANT_ID")?.toLowerCase()));
  tenants.delete(undefined);
  if (tenants.size <= 1) return [hosts];
  const groups = new Map<string | undefined, HostSettings[]>();
  for (const host of hosts) {
    const tenant = host.values.get("TENANT_ID")?.toLowerCase();
    groups.set(tenant, [...(groups.get(tenant) ?? []), host]);
  }
  return [...groups.values()];
}

export const npsExtensionSettingsConsistent: StackValidationPolicy = {
  name: "nps-extension-settings-consistent",
  description:
    "The NPS extension settings (NpsExtensionSettings) of the NPS servers of one tenant are the same, except the " +
    "per-server ones (default: CLIENT_CERT_IDENTIFIER, the pinned certificate thumbprint).",
  enforcementLevel: "advisory",
  configSchema: {
    properties: {
      perHostSettings: {
        type: "array",
        items: { type: "string" },
        default: npsExtensionSettingsConsistentDefaults.perHostSettings,
        description:
          "Registry value names (under HKLM\\SOFTWARE\\Microsoft\\AzureMfa) that may differ per server.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const resources = resourcesOfType(args.resources, dynamicTypeNames.npsExtensionSettings);
    if (resources.length === 0) args.notApplicable("the stack declares no NpsExtensionSettings");
    const { perHostSettings } = withDefaults(
      args.getConfig<Partial<NpsExtensionSettingsConsistentConfig>>(),
      npsExtensionSettingsConsistentDefaults,
    );
    const perHost = new Set(perHostSettings.map((name) => name.toUpperCase()));
    const hosts = resources
      .map((resource) => readHostSettings(resource, perHost))
      .filter((host): host is HostSettings => host !== undefined);

    for (const group of groupByTenant(hosts)) {
      const names = new Set(group.flatMap((host) => [...host.values.keys()]));
      for (const name of [...names].sort()) {
        const byValue = new Map<string, HostSettings[]>();
        for (const host of group) {
          const value = host.values.get(name) ?? "(not set)";
          byValue.set(value, [...(byValue.get(value) ?? []), host]);
        }
        if (byValue.size < 2) continue;
        // The value most servers have is taken as intended; every other server is reported.
        const [, ...outliers] = [...byValue.entries()].sort((a, b) => b[1].length - a[1].length);
        const summary = [...byValue.entries()]
          .map(([value, holders]) => `${value} on ${holders.map((host) => host.host).join(", ")}`)
          .join("; ");
        for (const [value, holders] of outliers) {
          for (const host of holders) {
            reportViolation(
              violationMessage({
                problem: `${name} is ${value} on ${host.host}, not the same on every NPS server of the tenant (${summary})`,
                resource: describeResource(host.resource, host.host),
                symptom:
                  "MFA then works through one NPS server and fails through another: the users the VPN sends to " +
                  "the odd one out see ESTS_TOKEN_ERROR, NPS event 6274 or RasClient event 20227 on the client while others do not",
                fix:
                  `give ${name} one value for every NPS server (the extension settings of the stack config), or add ` +
                  `${name} to this policy's perHostSettings if it is meant to differ`,
              }),
              host.resource.urn,
            );
          }
        }
      }
    }
  },
};
