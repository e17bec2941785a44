// The Entra MFA NPS extension's registry values on an NPS server (HKLM\SOFTWARE\Microsoft\AzureMfa). Only
// the declared names are managed; others are left alone. A host without the extension is reported, never
// changed: installing it is NpsExtensionInstall's (with extension.installer declared) or a human's. After
// each install (`extensionInstalledAt` moves) every declared value is applied again, as an install may reset them.
import * as pulumi from "@pulumi/pulumi";
import { atLeast } from "../../config/extensionVersions";
import { providerSeam } from "../seam";
import { dynamicModule, dynamicTypeNames, NpsExtensionSettingsInputs } from "../resourceTypes";
import { changedProperties, changedSettings, nextChangedAt } from "./compare";
import { HostStateProvider } from "./hostProvider";
import { hostnameFailure, WindowsProviderOptions } from "./options";

interface SettingsScriptResult {
  installed: boolean;
  missingDlls: string[];
  extensionVersion: string | null;
  values: Record<string, string>;
  drift: { name: string; expected: string; found: string | null }[];
  changed: string[];
}

export interface NpsExtensionSettingsState extends NpsExtensionSettingsInputs {
  /** The declared value names, so a value deleted on the host is still looked for. */
  managedNames: string[];
  /** When this provider last changed a value ("" never): IasRestart restarts when it moves. */
  changedAt: string;
  /** Names written by the last create or update. */
  changedValues: string[];
  /** The installed extension's version as last read (its DLL's file version); null when unreadable. */
  extensionVersion: string | null;
}

const valueNamePattern = /^[A-Z][A-Z0-9_]*$/;

/**
 * Each drifted setting by name (`settings.CLIENT_ID`), `extensionInstalled` when it is not,
 * `extensionInstalledAt` when the extension was installed since the values were last applied, and
 * `minimumExtensionVersion` when the installed version is below the declared minimum.
 */
export function settingsDrift(
  live: Partial<NpsExtensionSettingsState>,
  declared: NpsExtensionSettingsInputs,
): string[] {
  const minimum = declared.minimumExtensionVersion;
  return [
    ...changedSettings(live.settings, declared.settings),
    ...changedProperties(live, declared, ["extensionInstalled"]),
    ...(declared.extensionInstalledAt && live.extensionInstalledAt !== declared.extensionInstalledAt
      ? ["extensionInstalledAt"]
      : []),
    ...(minimum && live.extensionInstalled !== false && !atLeast(live.extensionVersion, minimum)
      ? ["minimumExtensionVersion"]
      : []),
  ];
}

function stateFrom(
  inputs: NpsExtensionSettingsInputs,
  managedNames: string[],
  result: SettingsScriptResult,
  changedAt: string,
): NpsExtensionSettingsState {
  const settings: Record<string, string> = {};
  for (const name of managedNames) {
    if (result.values[name] !== undefined) settings[name] = result.values[name];
  }
  return {
    ...inputs,
    settings,
    extensionInstalled: result.installed,
    managedNames,
    changedAt,
    changedValues: result.changed,
    extensionVersion: result.extensionVersion ?? null,
  };
}

export class NpsExtensionSettingsProvider extends HostStateProvider<
  NpsExtensionSettingsInputs,
  NpsExtensionSettingsState
> {
  async check(_olds: unknown, news: NpsExtensionSettingsInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures = hostnameFailure(news.hostname);
    // In a preview the settings are unknown until the certificate they pin is known: nothing to check yet.
    const known = (news.settings as unknown) !== pulumi.runtime.unknownValue;
    for (const [name, value] of Object.entries(known ? (news.settings ?? {}) : {})) {
      if (!valueNamePattern.test(name)) {
        failures.push({
          property: "settings",
          reason: `expected a registry value name like TENANT_ID, found ${JSON.stringify(name)}`,
        });
      }
      if (typeof value !== "string") {
        failures.push({ property: "settings", reason: `${name}: expected text, found a ${typeof value}` });
      }
    }
    return { inputs: { ...news, settings: news.settings ?? {}, extensionInstalled: true }, failures };
  }

  async read(id: string, props: NpsExtensionSettingsState): Promise<pulumi.dynamic.ReadResult> {
    if (this.session.forgets(props.hostname, "NpsExtensionSettings")) return { id: "", props: {} };
    const managedNames = props.managedNames ?? Object.keys(props.settings ?? {});
    const result = await this.session.run<SettingsScriptResult>(props.hostname, "NpsExtensionSettings", {
      mode: "get",
      settings: Object.fromEntries(managedNames.map((name) => [name, props.settings?.[name] ?? ""])),
    });
    const live = {
      ...stateFrom(props, managedNames, result, props.changedAt ?? ""),
      changedValues: props.changedValues ?? [],
    };
    return this.readResult(id, live, ["managedNames", "changedAt", "changedValues", "extensionVersion"]);
  }

  // delete forgets: removing the values would break MFA on a server that is still in use.

  protected drift(live: NpsExtensionSettingsState, declared: NpsExtensionSettingsInputs): string[] {
    return settingsDrift(live, declared);
  }

  protected async apply(
    inputs: NpsExtensionSettingsInputs,
    previous?: NpsExtensionSettingsState,
  ): Promise<NpsExtensionSettingsState> {
    const result = await this.session.run<SettingsScriptResult>(inputs.hostname, "NpsExtensionSettings", {
      mode: "set",
      settings: inputs.settings,
      minimumVersion: inputs.minimumExtensionVersion ?? null,
    });
    if (!result.installed) {
      throw new Error(
        `${inputs.hostname}: the Entra MFA NPS extension is not installed (HKLM\\SYSTEM\\CurrentControlSet\\Services\\` +
          `AuthSrv\\Parameters lacks it in ${result.missingDlls.join(", ")}). Nothing was changed: install the ` +
          "extension (NpsExtnForAzureMfaInstaller.exe) on the server, then apply again.",
      );
    }
    const managedNames = Object.keys(inputs.settings).sort();
    const live = stateFrom(inputs, managedNames, result, previous?.changedAt ?? "");
    const differsFromRecorded =
      previous !== undefined && changedSettings(previous.settings, live.settings).length > 0;
    return { ...live, changedAt: nextChangedAt(result.changed, previous, differsFromRecorded) };
  }
}

export class NpsExtensionSettings extends pulumi.dynamic.Resource {
  declare readonly changedAt: pulumi.Output<string>;
  declare readonly settings: pulumi.Output<Record<string, string>>;

  constructor(
    name: string,
    args: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
    options: WindowsProviderOptions = {},
  ) {
    super(
      options.runnerFor
        ? new NpsExtensionSettingsProvider(options)
        : providerSeam(dynamicTypeNames.npsExtensionSettings),
      name,
      {
        changedAt: undefined,
        changedValues: undefined,
        managedNames: undefined,
        extensionVersion: undefined,
        ...args,
      },
      opts,
      dynamicModule,
      dynamicTypeNames.npsExtensionSettings,
    );
  }
}
