// A restart of IAS on one NPS server, only when something it loads changed, followed by a health check;
// then the superseded NPS certificates go. Restarts form a chain across servers (each IasRestart depends
// on the previous server's): a failed health check fails this resource, so the engine never starts the
// servers after it.
import * as pulumi from "@pulumi/pulumi";
import { dynamicModule, dynamicTypeNames, IasRestartInputs } from "../resourceTypes";
import { sameValue } from "./compare";
import { hostReplaces, WindowsHostProvider } from "./hostProvider";
import { hostnameFailure, WindowsProviderOptions } from "./options";

interface RestartScriptResult {
  status: string;
  udp1812Listening: boolean;
  timings: Record<string, string | number>;
  retired: string[];
  /** The certificate the health check's token was signed with: the one IAS loaded ("" when not checked). */
  loadedThumbprint?: string;
}

export interface IasRestartState extends IasRestartInputs {
  /** When the last restart this resource made finished its health check ("" none yet). */
  restartedAt: string;
  timings: Record<string, string | number>;
  /** Certificates removed after the last restart. */
  retired: string[];
  /** The certificate IAS loaded at the last restart this resource made ("" none yet or not checked). */
  loadedThumbprint: string;
}

/** Channels where the extension logs ESTS_TOKEN_ERROR and other failures (AuthZ, event ID 3). */
export const authzLogNames = ["AuthZAdminCh", "AuthZOptCh"];
const defaultHealthCheckSeconds = 10;

/**
 * Whether IAS must restart: on create, when any trigger is set (something was changed on the host); on
 * update, when a trigger moved to a new non-empty value. Host name, chain order or WinRM edits never restart.
 */
export function restartNeeded(
  previous: Record<string, string> | undefined,
  next: Record<string, string>,
): boolean {
  return Object.entries(next).some(
    ([name, value]) => value !== "" && (previous === undefined || previous[name] !== value),
  );
}

export class IasRestartProvider extends WindowsHostProvider implements pulumi.dynamic.ResourceProvider {
  async check(_olds: unknown, news: IasRestartInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures = hostnameFailure(news.hostname);
    const seconds = news.healthCheckSeconds ?? defaultHealthCheckSeconds;
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
      failures.push({ property: "healthCheckSeconds", reason: `expected 0-300 seconds, found ${seconds}` });
    }
    return { inputs: { ...news, triggers: news.triggers ?? {}, healthCheckSeconds: seconds }, failures };
  }

  async diff(_id: string, olds: IasRestartState, news: IasRestartInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = hostReplaces(olds, news);
    const changed = (
      ["triggers", "previousHostname", "healthCheckSeconds", "retireCertificates"] as const
    ).filter((name) => !sameValue(olds[name], news[name]));
    return { changes: replaces.length > 0 || changed.length > 0, replaces };
  }

  async create(inputs: IasRestartInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = restartNeeded(undefined, inputs.triggers)
      ? await this.restart(inputs)
      : this.unchanged(inputs);
    return { id: inputs.hostname.toLowerCase(), outs };
  }

  async update(
    _id: string,
    olds: IasRestartState,
    news: IasRestartInputs,
  ): Promise<pulumi.dynamic.UpdateResult> {
    const outs = restartNeeded(olds.triggers, news.triggers)
      ? await this.restart(news)
      : this.unchanged(news, olds);
    return { outs };
  }

  /** A restart is an event, not host state: nothing to read back, and no round trip spent on it. */
  async read(id: string, props: IasRestartState): Promise<pulumi.dynamic.ReadResult> {
    return { id, props };
  }

  private unchanged(inputs: IasRestartInputs, olds?: IasRestartState): IasRestartState {
    return {
      ...inputs,
      restartedAt: olds?.restartedAt ?? "",
      timings: olds?.timings ?? {},
      retired: [],
      loadedThumbprint: olds?.loadedThumbprint ?? "",
    };
  }

  private async restart(inputs: IasRestartInputs): Promise<IasRestartState> {
    const result = await this.session.run<RestartScriptResult>(inputs.hostname, "IasRestart", {
      mode: "restart",
      healthCheckSeconds: inputs.healthCheckSeconds ?? defaultHealthCheckSeconds,
      authzLogNames,
      ...(inputs.retireCertificates ? { retireCertificates: inputs.retireCertificates } : {}),
      checkExtensionToken: inputs.checkExtensionToken ?? false,
    });
    return {
      ...inputs,
      restartedAt: String(result.timings.healthCheckedAt ?? ""),
      timings: result.timings,
      retired: result.retired,
      loadedThumbprint: result.loadedThumbprint ?? "",
    };
  }
}

export class IasRestart extends pulumi.dynamic.Resource {
  declare readonly restartedAt: pulumi.Output<string>;
  declare readonly loadedThumbprint: pulumi.Output<string>;

  constructor(
    name: string,
    args: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
    options: WindowsProviderOptions = {},
  ) {
    super(
      new IasRestartProvider(options),
      name,
      {
        restartedAt: undefined,
        timings: undefined,
        retired: undefined,
        loadedThumbprint: undefined,
        ...args,
      },
      opts,
      dynamicModule,
      dynamicTypeNames.iasRestart,
    );
  }
}
