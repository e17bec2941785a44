// The last step of an NPS certificate rotation: the server's previous key leaves the MFA Client service
// principal only after IAS restarted with the new certificate and passed its health check (this resource
// depends on the server's IasRestart). Until then the extension still signs with the old certificate, and
// removing its key is exactly ESTS_TOKEN_ERROR with AADSTS700027. Refresh finds keys left over by an
// interrupted rotation, so the next `up` finishes it. Destroy forgets.
import * as pulumi from "@pulumi/pulumi";
import { dynamicModule, dynamicTypeNames, NpsSupersededKeysInputs } from "../resourceTypes";
import { GraphSession } from "./graphSession";
import { GraphKeyCredential, supersededKeys, thumbprintOfKey, withoutSupersededKeys } from "./keyCredentials";
import type { KeyConvergenceOptions } from "./npsCertificateCredential";
import { writeKeyCredentialsSafely } from "./keyWrites";
import { providerSeam } from "../seam";
import { findServicePrincipal, readKeyCredentials } from "./servicePrincipals";

export interface NpsSupersededKeysOutputs extends NpsSupersededKeysInputs {
  servicePrincipalId: string;
  /** Thumbprints of the host's keys still waiting to be removed: declared none, after refresh what is live. */
  superseded: string[];
}

const supersededThumbprints = (live: GraphKeyCredential[], inputs: NpsSupersededKeysInputs) =>
  supersededKeys(live, inputs.npsHostname, inputs.keepThumbprints)
    .map((key) => thumbprintOfKey(key) ?? key.keyId)
    .sort();

const sameList = (a: string[] = [], b: string[] = []) =>
  [...a]
    .map((entry) => entry.toUpperCase())
    .sort()
    .join(",") ===
  [...b]
    .map((entry) => entry.toUpperCase())
    .sort()
    .join(",");

export class NpsSupersededKeysProvider implements pulumi.dynamic.ResourceProvider {
  private readonly session = new GraphSession();

  /** Options are plain numbers: they are serialized with the provider. */
  constructor(private readonly convergence: KeyConvergenceOptions = {}) {}

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.session.configure(req);
  }

  async check(_olds: unknown, news: NpsSupersededKeysInputs): Promise<pulumi.dynamic.CheckResult> {
    const keep =
      (news.keepThumbprints as unknown) === pulumi.runtime.unknownValue ? [] : news.keepThumbprints;
    const declared = (keep ?? []).filter(
      (entry) => entry !== "" && (entry as unknown) !== pulumi.runtime.unknownValue,
    );
    const failures = declared.every((entry) => /^[0-9A-Fa-f]{40}$/.test(entry))
      ? []
      : [
          {
            property: "keepThumbprints",
            reason: `${news.npsHostname}: expected 40-hex SHA-1 thumbprints, found ${JSON.stringify(declared)}`,
          },
        ];
    return { inputs: news, failures };
  }

  async diff(_id: string, olds: NpsSupersededKeysOutputs, news: NpsSupersededKeysInputs) {
    const changed =
      (olds.superseded ?? []).length > 0 ||
      (news.keepThumbprints as unknown) === pulumi.runtime.unknownValue ||
      !sameList(olds.keepThumbprints, news.keepThumbprints) ||
      (olds.npsHostname ?? "").toLowerCase() !== news.npsHostname.toLowerCase();
    return { changes: changed };
  }

  async create(inputs: NpsSupersededKeysInputs): Promise<pulumi.dynamic.CreateResult> {
    return {
      id: `${inputs.clientAppId}/${inputs.npsHostname.toLowerCase()}/superseded`,
      outs: await this.retire(inputs),
    };
  }

  async update(
    _id: string,
    _olds: unknown,
    news: NpsSupersededKeysInputs,
  ): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.retire(news) };
  }

  async read(id: string, props: NpsSupersededKeysOutputs): Promise<pulumi.dynamic.ReadResult> {
    const graph = this.session.graph();
    const sp = await findServicePrincipal(graph, props.clientAppId);
    const live = sp ? await readKeyCredentials(graph, sp.id) : [];
    return {
      id,
      props: { ...props, servicePrincipalId: sp?.id ?? "", superseded: supersededThumbprints(live, props) },
    };
  }

  /** Forgets: a key left behind is harmless, and removing keys on destroy could stop a server's MFA. */
  async delete(): Promise<void> {}

  private async retire(inputs: NpsSupersededKeysInputs): Promise<NpsSupersededKeysOutputs> {
    const keep = inputs.keepThumbprints.filter((entry) => entry !== "");
    if (keep.length === 0) {
      throw new Error(
        `${inputs.npsHostname}: expected the thumbprint of the certificate to keep on the MFA Client service ` +
          "principal, found none: nothing was removed.",
      );
    }
    const graph = this.session.graph();
    const sp = await findServicePrincipal(graph, inputs.clientAppId);
    if (!sp) {
      throw new Error(
        `${inputs.npsHostname}: expected the MFA Client service principal (appId ${inputs.clientAppId}) in the tenant, found none.`,
      );
    }
    const { keys } = await writeKeyCredentialsSafely(
      graph,
      sp.id,
      (live) => withoutSupersededKeys(live, inputs.npsHostname, keep),
      `${inputs.npsHostname}: removing superseded keys from the MFA Client service principal (${sp.id})`,
      this.convergence,
    );
    return { ...inputs, servicePrincipalId: sp.id, superseded: supersededThumbprints(keys, inputs) };
  }
}

export interface NpsSupersededKeysArgs {
  clientAppId: pulumi.Input<string>;
  npsHostname: pulumi.Input<string>;
  keepThumbprints: pulumi.Input<pulumi.Input<string>[]>;
}

/** `pulumi-nodejs:dynamic/npsmfa:NpsSupersededKeys`: the host's older keys, gone once IAS runs the new one. */
export class NpsSupersededKeys extends pulumi.dynamic.Resource {
  declare readonly superseded: pulumi.Output<string[]>;

  constructor(name: string, args: NpsSupersededKeysArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerSeam(dynamicTypeNames.npsSupersededKeys),
      name,
      { ...args, servicePrincipalId: undefined, superseded: [] },
      opts,
      dynamicModule,
      dynamicTypeNames.npsSupersededKeys,
    );
  }
}
