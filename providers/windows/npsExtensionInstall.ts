// The Entra MFA NPS extension on one NPS server, kept at or above the stack's minimum version from the declared
// installer (remote/scripts/NpsExtensionInstall.ps1: fetch, SHA-256, uninstall the old version, silent install).
// Declared only when extension.installer is: without it the version is read and gated by NpsExtensionSettings
// but never changed. IAS loads the new DLLs at its next start: the server's IasRestart does that, triggered by
// `installedAt`, after NpsExtensionSettings applied the values again.
import * as pulumi from "@pulumi/pulumi";
import { atLeast } from "../../config/extensionVersions";
import { installerSourceProblem, shownInstallerSource } from "../../config/schema";
import { providerSeam } from "../seam";
import { dynamicModule, dynamicTypeNames, NpsExtensionInstallInputs } from "../resourceTypes";
import { HostStateProvider } from "./hostProvider";
import { hostnameFailure, WindowsProviderOptions } from "./options";

interface InstallScriptResult {
  registered: boolean;
  extensionVersion: string | null;
  product: { name: string; version: string; productCode: string } | null;
  versionSatisfied: boolean;
  changed: boolean;
  previousVersion: string | null;
  log: string;
}

export interface NpsExtensionInstallState extends NpsExtensionInstallInputs {
  /** MfaNpsAuthzExt.dll's file version as last read; null when not installed or unreadable. */
  extensionVersion: string | null;
  /** The version Programs and Features shows for "NPS Extension For Azure MFA"; null without an entry. */
  productVersion: string | null;
  /** When this resource last installed the extension ("" never): IAS restarts and settings apply again when it moves. */
  installedAt: string;
  /** The last install this resource made: the version it replaced (null: none) and the one it put there. */
  lastInstall: { from: string | null; to: string; log: string } | null;
}

/** Installer runs download, uninstall and install in one command: WinRM's budget for it is at least this. */
export const installOperationSeconds = 900;
const defaultDownloadTimeoutSeconds = 300;
const versionPattern = /^\d+(\.\d+){1,3}$/;

/**
 * `versionSatisfied` when the server lacks the extension or runs one below the declared minimum (the live
 * version is judged against the declared minimum, so raising it shows as drift at once).
 */
export function installDrift(
  live: Partial<NpsExtensionInstallState>,
  declared: NpsExtensionInstallInputs,
): string[] {
  const belowDeclared =
    declared.minimumVersion !== undefined && !atLeast(live.extensionVersion, declared.minimumVersion);
  return live.versionSatisfied === false || belowDeclared ? ["versionSatisfied"] : [];
}

export class NpsExtensionInstallProvider extends HostStateProvider<
  NpsExtensionInstallInputs,
  NpsExtensionInstallState
> {
  async check(_olds: unknown, news: NpsExtensionInstallInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures = hostnameFailure(news.hostname);
    const source = news.installer?.source ?? "";
    const sourceProblem = installerSourceProblem(source);
    if (sourceProblem)
      failures.push({
        property: "installer",
        reason: `source: expected ${sourceProblem}, found ${JSON.stringify(shownInstallerSource(source))}`,
      });
    if (!/^[0-9a-f]{64}$/i.test(news.installer?.sha256 ?? ""))
      failures.push({ property: "installer", reason: "sha256: expected 64 hex digits" });
    if (news.minimumVersion !== undefined && !versionPattern.test(news.minimumVersion))
      failures.push({
        property: "minimumVersion",
        reason: `expected a version such as 1.2.2893.1, found ${JSON.stringify(news.minimumVersion)}`,
      });
    return { inputs: { ...news, versionSatisfied: true }, failures };
  }

  async read(id: string, props: NpsExtensionInstallState): Promise<pulumi.dynamic.ReadResult> {
    if (this.session.forgets(props.hostname, "NpsExtensionInstall")) return { id: "", props: {} };
    const result = await this.session.run<InstallScriptResult>(props.hostname, "NpsExtensionInstall", {
      mode: "get",
      minimumVersion: props.minimumVersion ?? null,
    });
    const live: NpsExtensionInstallState = {
      ...props,
      versionSatisfied: result.versionSatisfied,
      extensionVersion: result.extensionVersion,
      productVersion: result.product?.version ?? null,
    };
    return this.readResult(id, live, ["extensionVersion", "productVersion", "installedAt", "lastInstall"]);
  }

  // delete forgets: uninstalling the extension would let IAS grant access without MFA at its next start.

  protected drift(live: NpsExtensionInstallState, declared: NpsExtensionInstallInputs): string[] {
    return installDrift(live, declared);
  }

  protected async apply(
    inputs: NpsExtensionInstallInputs,
    previous?: NpsExtensionInstallState,
  ): Promise<NpsExtensionInstallState> {
    const result = await this.session.run<InstallScriptResult>(
      inputs.hostname,
      "NpsExtensionInstall",
      {
        mode: "install",
        installer: inputs.installer,
        minimumVersion: inputs.minimumVersion ?? null,
        downloadTimeoutSeconds: defaultDownloadTimeoutSeconds,
      },
      { minimumOperationSeconds: installOperationSeconds },
    );
    return {
      ...inputs,
      versionSatisfied: result.versionSatisfied,
      extensionVersion: result.extensionVersion,
      productVersion: result.product?.version ?? null,
      installedAt: result.changed ? new Date().toISOString() : (previous?.installedAt ?? ""),
      lastInstall: result.changed
        ? { from: result.previousVersion, to: result.extensionVersion ?? "", log: result.log }
        : (previous?.lastInstall ?? null),
    };
  }
}

export class NpsExtensionInstall extends pulumi.dynamic.Resource {
  declare readonly installedAt: pulumi.Output<string>;
  declare readonly extensionVersion: pulumi.Output<string | null>;

  constructor(
    name: string,
    args: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
    options: WindowsProviderOptions = {},
  ) {
    super(
      options.runnerFor
        ? new NpsExtensionInstallProvider(options)
        : providerSeam(dynamicTypeNames.npsExtensionInstall),
      name,
      {
        extensionVersion: undefined,
        productVersion: undefined,
        installedAt: undefined,
        lastInstall: undefined,
        ...args,
      },
      opts,
      dynamicModule,
      dynamicTypeNames.npsExtensionInstall,
    );
  }
}
