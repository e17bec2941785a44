// RADIUS timeouts long enough for MFA: on a VPN (RRAS) server, each RADIUS authentication server entry for
// our NPS servers; on an NPS that forwards, each server of its remote RADIUS server groups, with a blackout
// at least its timeout and an IAS reset after a change (remote/scripts/RadiusTimeout.ps1). Longer is fine.
import * as pulumi from "@pulumi/pulumi";
import { providerSeam } from "../seam";
import { dynamicModule, dynamicTypeNames, RadiusTimeoutInputs } from "../resourceTypes";
import { changedProperties, nextChangedAt } from "./compare";
import { HostStateProvider } from "./hostProvider";
import { hostnameFailure, WindowsProviderOptions } from "./options";

interface TimeoutScriptResult {
  rrasServers: { serverName: string; timeout: number }[];
  missing: string[];
  remoteServers: { group: string; address: string; timeout: number; blackout: number }[];
  drift: { name: string; expected: number; found: number }[];
  changed: string[];
  /** A proxy whose IAS was not reset since its forwarding settings last changed (or never by npsmfa). */
  resetPending: boolean;
}

export interface RadiusTimeoutState extends RadiusTimeoutInputs {
  /** Declared NPS servers and timeout, kept so read can judge the host against them. */
  managedNpsServers: string[];
  desiredTimeoutSeconds: number;
  /** Live timeout per entry: `rras:<nps>` or `nps-group:<group>/<address>`. */
  liveTimeouts: Record<string, number>;
  /** A proxy's blackout per `nps-group:<group>/<address>`: seconds a server that dropped requests is skipped. */
  liveBlackouts?: Record<string, number>;
  /** A proxy's IAS forwards with settings older than its configuration. */
  resetPending?: boolean;
  changedAt: string;
}

/**
 * The host as the declaration's shape: npsServers are the declared ones RRAS has an entry for, and
 * timeoutSeconds is the declared value when every entry reaches it, else the shortest found.
 */
function stateFrom(
  inputs: RadiusTimeoutInputs,
  managedNpsServers: string[],
  desiredTimeoutSeconds: number,
  result: TimeoutScriptResult,
  changedAt: string,
): RadiusTimeoutState {
  const liveTimeouts: Record<string, number> = {};
  const liveBlackouts: Record<string, number> = {};
  for (const server of result.rrasServers) {
    if (managedNpsServers.some((name) => name.toLowerCase() === server.serverName.toLowerCase())) {
      liveTimeouts[`rras:${server.serverName}`] = server.timeout;
    }
  }
  for (const server of result.remoteServers) {
    liveTimeouts[`nps-group:${server.group}/${server.address}`] = server.timeout;
    liveBlackouts[`nps-group:${server.group}/${server.address}`] = server.blackout;
  }
  const shortest = Math.min(desiredTimeoutSeconds, ...Object.values(liveTimeouts));
  const missing = new Set(result.missing.map((name) => name.toLowerCase()));
  return {
    ...inputs,
    npsServers: managedNpsServers.filter((name) => !missing.has(name.toLowerCase())),
    timeoutSeconds: shortest,
    managedNpsServers,
    desiredTimeoutSeconds,
    liveTimeouts,
    liveBlackouts,
    resetPending: result.resetPending === true,
    changedAt,
  };
}

export function timeoutDrift(live: Partial<RadiusTimeoutState>, declared: RadiusTimeoutInputs): string[] {
  const drifted = changedProperties(live, declared, ["npsServers", "timeoutSeconds", "remoteServerGroups"]);
  const short = Object.entries(live.liveTimeouts ?? {})
    .filter(([, seconds]) => seconds < declared.timeoutSeconds)
    .map(([entry]) => `timeout of ${entry}`);
  // Learn (howto-mfa-nps-extension-rdg): the blackout at least the timeout, which is at least the declared one.
  const blackouts = Object.entries(live.liveBlackouts ?? {})
    .filter(
      ([entry, seconds]) => seconds < Math.max(declared.timeoutSeconds, live.liveTimeouts?.[entry] ?? 0),
    )
    .map(([entry]) => `blackout of ${entry}`);
  return [...drifted, ...short, ...blackouts, ...(live.resetPending ? ["IAS reset pending"] : [])];
}

export class RadiusTimeoutProvider extends HostStateProvider<RadiusTimeoutInputs, RadiusTimeoutState> {
  async check(_olds: unknown, news: RadiusTimeoutInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures = hostnameFailure(news.hostname);
    if (!Number.isInteger(news.timeoutSeconds) || news.timeoutSeconds < 1) {
      failures.push({
        property: "timeoutSeconds",
        reason: `expected whole seconds, found ${news.timeoutSeconds}`,
      });
    }
    return {
      inputs: {
        ...news,
        npsServers: news.npsServers ?? [],
        remoteServerGroups: news.remoteServerGroups ?? false,
      },
      failures,
    };
  }

  async read(id: string, props: RadiusTimeoutState): Promise<pulumi.dynamic.ReadResult> {
    if (this.session.forgets(props.hostname, "RadiusTimeout")) return { id: "", props: {} };
    const managed = props.managedNpsServers ?? props.npsServers;
    const desired = props.desiredTimeoutSeconds ?? props.timeoutSeconds;
    const result = await this.session.run<TimeoutScriptResult>(props.hostname, "RadiusTimeout", {
      mode: "get",
      npsServers: managed,
      timeoutSeconds: desired,
      remoteServerGroups: props.remoteServerGroups ?? false,
    });
    const live = stateFrom(props, managed, desired, result, props.changedAt ?? "");
    return this.readResult(id, live, [
      "managedNpsServers",
      "desiredTimeoutSeconds",
      "liveTimeouts",
      "liveBlackouts",
      "resetPending",
      "changedAt",
    ]);
  }

  // delete forgets: a shorter timeout would bring the MFA failures back.

  protected drift(live: RadiusTimeoutState, declared: RadiusTimeoutInputs): string[] {
    return timeoutDrift(live, declared);
  }

  protected async apply(
    inputs: RadiusTimeoutInputs,
    previous?: RadiusTimeoutState,
  ): Promise<RadiusTimeoutState> {
    const result = await this.session.run<TimeoutScriptResult>(inputs.hostname, "RadiusTimeout", {
      mode: "set",
      npsServers: inputs.npsServers,
      timeoutSeconds: inputs.timeoutSeconds,
      remoteServerGroups: inputs.remoteServerGroups ?? false,
    });
    const changedAt = nextChangedAt(result.changed, previous);
    return stateFrom(inputs, inputs.npsServers, inputs.timeoutSeconds, result, changedAt);
  }
}

export class RadiusTimeout extends pulumi.dynamic.Resource {
  declare readonly liveTimeouts: pulumi.Output<Record<string, number>>;
  declare readonly changedAt: pulumi.Output<string>;

  constructor(
    name: string,
    args: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
    options: WindowsProviderOptions = {},
  ) {
    super(
      options.runnerFor ? new RadiusTimeoutProvider(options) : providerSeam(dynamicTypeNames.radiusTimeout),
      name,
      {
        managedNpsServers: undefined,
        desiredTimeoutSeconds: undefined,
        liveTimeouts: undefined,
        liveBlackouts: undefined,
        resetPending: undefined,
        changedAt: undefined,
        ...args,
      },
      opts,
      dynamicModule,
      dynamicTypeNames.radiusTimeout,
    );
  }
}
