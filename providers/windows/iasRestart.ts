// A restart of IAS on one NPS server, only when something it loads changed, followed by a health check;
// then the superseded NPS certificates go. Restarts form a chain across servers (each IasRestart depends
// on the previous server's): a failed health check fails this resource, so the engine never starts the
// servers after it.
import * as pulumi from "@pulumi/pulumi";
import { providerSeam } from "../seam";
import { dynamicModule, dynamicTypeNames, IasRestartInputs } from "../resourceTypes";
import { sameValue } from "./compare";
import { hostReplaces, WindowsHostProvider } from "./hostProvider";
import { hostnameFailure, WindowsProviderOptions } from "./options";

interface RestartScriptResult {
  status: string;
  udp1812Listening: boolean;
  timings: Record<string, string | number>;
  retired: string[];
  /** False when the script found no restart pending and none was forced. */
  restarted: boolean;
  /** Whether something IAS loads changed on the server since its last recorded restart (IasLoaded.ps1). */
  restartPending: boolean;
  /** The certificate the health check's token was signed with: the one IAS loaded ("" when not checked). */
  loadedThumbprint?: string;
}

export interface IasRestartState extends IasRestartInputs {
  /** Read from the server: IAS has not loaded what the server has now. Declared false. */
  restartPending: boolean;
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
    return {
      inputs: { ...news, triggers: news.triggers ?? {}, healthCheckSeconds: seconds, restartPending: false },
      failures,
    };
  }

  async diff(_id: string, olds: IasRestartState, news: IasRestartInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = hostReplaces(olds, news);
    const changed = (
      ["triggers", "previousHostname", "healthCheckSeconds", "retireCertificates"] as const
    ).filter((name) => !sameValue(olds[name], news[name]));
    // A restart the server says is pending is drift like any other: a refresh finds it, the next up does it.
    const pending = olds.restartPending === true;
    return { changes: replaces.length > 0 || changed.length > 0 || pending, replaces };
  }

  async create(inputs: IasRestartInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = await this.restartIfNeeded(inputs, restartNeeded(undefined, inputs.triggers));
    return { id: inputs.hostname.toLowerCase(), outs };
  }

  async update(
    _id: string,
    olds: IasRestartState,
    news: IasRestartInputs,
  ): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.restartIfNeeded(news, restartNeeded(olds.triggers, news.triggers), olds) };
  }

  /** Whether IAS runs what its server has now: the record IasLoaded.ps1 keeps on the server. */
  async read(id: string, props: IasRestartState): Promise<pulumi.dynamic.ReadResult> {
    if (this.session.forgets(props.hostname, "IasRestart")) return { id: "", props: {} };
    const result = await this.session.run<RestartScriptResult>(props.hostname, "IasRestart", { mode: "get" });
    const live: IasRestartState = { ...props, restartPending: result.restartPending };
    return this.readResult(id, live, ["restartedAt", "timings", "retired", "loadedThumbprint"]);
  }

  /**
   * One round trip: the script restarts when forced (a trigger moved) or when the server records a
   * change IAS has not loaded, e.g. from an earlier run that stopped before its restart.
   */
  private async restartIfNeeded(
    inputs: IasRestartInputs,
    force: boolean,
    olds?: IasRestartState,
  ): Promise<IasRestartState> {
    const result = await this.session.run<RestartScriptResult>(inputs.hostname, "IasRestart", {
      mode: "restart",
      force,
      healthCheckSeconds: inputs.healthCheckSeconds ?? defaultHealthCheckSeconds,
      authzLogNames,
      ...(inputs.retireCertificates ? { retireCertificates: inputs.retireCertificates } : {}),
      checkExtensionToken: inputs.checkExtensionToken ?? false,
    });
    if (!result.restarted) {
      return {
        ...inputs,
        restartPending: false,
        restartedAt: olds?.restartedAt ?? "",
        timings: olds?.timings ?? {},
        retired: [],
        loadedThumbprint: olds?.loadedThumbprint ?? "",
      };
    }
    return {
      ...inputs,
      restartPending: false,
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
      options.runnerFor ? new IasRestartProvider(options) : providerSeam(dynamicTypeNames.iasRestart),
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
