// A Microsoft first-party service principal that must exist and be enabled (MFA Client, MFA Connector).
// Only accountEnabled is ever written. Destroy forgets: disabling or deleting these is the outage we
// exist to prevent, and the generic azuread.ServicePrincipal deletes adopted SPs on destroy.
import * as pulumi from "@pulumi/pulumi";
import { providerSeam } from "../seam";
import { dynamicModule, dynamicTypeNames, ServicePrincipalEnabledInputs } from "../resourceTypes";
import { GraphSession } from "./graphSession";
import { tellOperator } from "./log";
import { createServicePrincipal, findServicePrincipal, setAccountEnabled } from "./servicePrincipals";

export interface ServicePrincipalEnabledOutputs extends ServicePrincipalEnabledInputs {
  /** Object ID of the service principal in the tenant (empty when it does not exist). */
  servicePrincipalId: string;
  /** False when refresh found no service principal for appId. */
  exists: boolean;
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkServicePrincipalInputs(
  news: ServicePrincipalEnabledInputs,
): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  if (typeof news.appId !== "string" || !guidPattern.test(news.appId)) {
    failures.push({
      property: "appId",
      reason: `expected an application ID GUID, found ${JSON.stringify(news.appId)}`,
    });
  }
  if (news.accountEnabled !== true) {
    failures.push({
      property: "accountEnabled",
      reason:
        `expected true for ${news.displayName ?? news.appId}, found ${JSON.stringify(news.accountEnabled)}. ` +
        "This project never disables a Microsoft first-party service principal: the NPS extension fails " +
        "with ESTS_TOKEN_ERROR when it is disabled. Disable it in the Entra admin center if you really mean to.",
    });
  }
  return failures;
}

/**
 * Properties whose live value (old outputs, after refresh) differs from the declared one. Dynamic
 * providers cannot send a detailed diff, so `read` also returns the live values as inputs: the CLI then
 * shows these same properties, e.g. `accountEnabled: false => true`.
 */
export function driftedServicePrincipalProperties(
  olds: Partial<ServicePrincipalEnabledOutputs>,
  news: ServicePrincipalEnabledInputs & { exists?: boolean },
): string[] {
  const drifted: string[] = [];
  if ((olds.appId ?? "").toLowerCase() !== news.appId.toLowerCase()) drifted.push("appId");
  if (olds.exists === false) drifted.push("exists");
  if (olds.accountEnabled !== news.accountEnabled) drifted.push("accountEnabled");
  return drifted;
}

export function diffServicePrincipal(
  olds: Partial<ServicePrincipalEnabledOutputs>,
  news: ServicePrincipalEnabledInputs,
): pulumi.dynamic.DiffResult {
  const drifted = driftedServicePrincipalProperties(olds, news);
  return {
    changes: drifted.length > 0,
    replaces: drifted.filter((name) => name === "appId"),
    deleteBeforeReplace: false,
  };
}

export class ServicePrincipalEnabledProvider implements pulumi.dynamic.ResourceProvider {
  private readonly session = new GraphSession();

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.session.configure(req);
  }

  async check(_olds: unknown, news: ServicePrincipalEnabledInputs): Promise<pulumi.dynamic.CheckResult> {
    return { inputs: news, failures: checkServicePrincipalInputs(news) };
  }

  async diff(_id: string, olds: ServicePrincipalEnabledOutputs, news: ServicePrincipalEnabledInputs) {
    return diffServicePrincipal(olds, news);
  }

  async create(inputs: ServicePrincipalEnabledInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: inputs.appId.toLowerCase(), outs: await this.ensure(inputs) };
  }

  async update(
    _id: string,
    _olds: unknown,
    news: ServicePrincipalEnabledInputs,
  ): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.ensure(news) };
  }

  async read(id: string, props?: ServicePrincipalEnabledOutputs): Promise<pulumi.dynamic.ReadResult> {
    const appId = props?.appId ?? id;
    const live = await findServicePrincipal(this.session.graph(), appId);
    const outs: ServicePrincipalEnabledOutputs = {
      appId,
      displayName: live?.displayName ?? props?.displayName ?? appId,
      accountEnabled: live?.accountEnabled ?? false,
      servicePrincipalId: live?.id ?? "",
      exists: live !== undefined,
    };
    const { servicePrincipalId: _servicePrincipalId, ...liveInputs } = outs;
    return { id, props: outs, inputs: liveInputs };
  }

  async delete(id: string, props: ServicePrincipalEnabledOutputs): Promise<void> {
    tellOperator(
      `${props.displayName ?? id} (appId ${props.appId ?? id}): removed from the stack only. The service principal ` +
        "was left in the tenant, enabled: disabling or deleting it would break the NPS extension (ESTS_TOKEN_ERROR).",
    );
  }

  private async ensure(inputs: ServicePrincipalEnabledInputs): Promise<ServicePrincipalEnabledOutputs> {
    const graph = this.session.graph();
    const sp =
      (await findServicePrincipal(graph, inputs.appId)) ??
      (await createServicePrincipal(graph, inputs.appId));
    if (sp.accountEnabled !== inputs.accountEnabled)
      await setAccountEnabled(graph, sp.id, inputs.accountEnabled);
    return {
      appId: inputs.appId,
      displayName: inputs.displayName,
      accountEnabled: inputs.accountEnabled,
      servicePrincipalId: sp.id,
      exists: true,
    };
  }
}

export interface ServicePrincipalEnabledArgs {
  appId: pulumi.Input<string>;
  displayName: pulumi.Input<string>;
}

/** `pulumi-nodejs:dynamic/npsmfa:ServicePrincipalEnabled`: the SP exists and accountEnabled is true. */
export class ServicePrincipalEnabled extends pulumi.dynamic.Resource {
  declare readonly appId: pulumi.Output<string>;
  declare readonly displayName: pulumi.Output<string>;
  declare readonly accountEnabled: pulumi.Output<boolean>;
  declare readonly servicePrincipalId: pulumi.Output<string>;
  declare readonly exists: pulumi.Output<boolean>;

  constructor(name: string, args: ServicePrincipalEnabledArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerSeam(dynamicTypeNames.servicePrincipalEnabled),
      name,
      { ...args, accountEnabled: true, exists: true, servicePrincipalId: undefined },
      opts,
      dynamicModule,
      dynamicTypeNames.servicePrincipalEnabled,
    );
  }
}
