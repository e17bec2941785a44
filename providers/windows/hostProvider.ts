// What every Windows provider shares: a session that reads the stack's WinRM credentials in `configure`,
// a host name that cannot change in place, and a `delete` that forgets (taking a setting away from a
// live NPS or VPN server would bring the MFA failures back). HostStateProvider adds the desired-state
// cycle of the certificate, settings and timeout providers: drift decides the diff, and create and update
// both make the host match in one script run.
import type * as pulumi from "@pulumi/pulumi";
import { tellOperator } from "../entra/log";
import { WindowsHostSession } from "./hostSession";
import { WindowsProviderOptions } from "./options";

interface OnHost {
  hostname: string;
}

/** A different host is a different resource: replace, never update in place. */
export function hostReplaces(olds: Partial<OnHost>, news: OnHost): string[] {
  return olds.hostname?.toLowerCase() === news.hostname.toLowerCase() ? [] : ["hostname"];
}

export abstract class WindowsHostProvider {
  protected readonly session: WindowsHostSession;

  constructor(options: WindowsProviderOptions = {}) {
    this.session = new WindowsHostSession(options.runnerFor);
  }

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.session.configure(req);
  }

  /**
   * A read's answer: what the host has as the resource's outputs, and as its inputs without the properties
   * that are outputs only (what the engine diffs against the program's inputs).
   */
  protected readResult<State extends object>(
    id: string,
    live: State,
    outputsOnly: readonly (keyof State)[],
  ): pulumi.dynamic.ReadResult {
    const inputs = Object.fromEntries(
      Object.entries(live).filter(([name]) => !outputsOnly.includes(name as keyof State)),
    );
    return { id, props: live, inputs };
  }

  /** Forgets the resource and leaves the host as it is, saying so once. */
  async delete(id: string, props: Partial<OnHost>): Promise<void> {
    tellOperator(
      `${props.hostname ?? id}: ${this.constructor.name.replace(/Provider$/, "")} removed from the stack only; ` +
        "nothing on the server was changed.",
    );
  }
}

export abstract class HostStateProvider<Inputs extends OnHost, State extends Inputs>
  extends WindowsHostProvider
  implements pulumi.dynamic.ResourceProvider
{
  /** Names of the settings where the host (live outputs) differs from the declaration. */
  protected abstract drift(live: State, declared: Inputs): string[];

  /** Makes the host match `inputs` in one script run; `previous` is the state before an update. */
  protected abstract apply(inputs: Inputs, previous?: State): Promise<State>;

  async diff(_id: string, olds: State, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = hostReplaces(olds, news);
    return { changes: replaces.length > 0 || this.drift(olds, news).length > 0, replaces };
  }

  async create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: inputs.hostname.toLowerCase(), outs: await this.apply(inputs) };
  }

  async update(_id: string, olds: State, news: Inputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.apply(news, olds) };
  }
}
