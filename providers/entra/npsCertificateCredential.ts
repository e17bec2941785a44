// One NPS server's certificate registered on the MFA Client service principal's keyCredentials.
// Read, merge, write once, and confirm only after every older write could have landed (keyWrites.ts):
// Graph has no lock on the collection, so a concurrent writer may drop our key; then we merge again.
// A renewal only adds: the host's previous key goes later (NpsSupersededKeys), after IAS runs the new one.
// Destroy forgets: removing a key would stop that NPS server's MFA, and other tooling may rely on it.
import * as pulumi from "@pulumi/pulumi";
import type { GraphClient } from "../../remote/graph/client";
import {
  dynamicModule,
  dynamicTypeNames,
  NpsCertificateCredentialInputs,
  NpsCertificatePublicPart,
} from "../resourceTypes";
import { GraphSession } from "./graphSession";
import {
  GraphKeyCredential,
  keyStatus,
  KeyStatus,
  nextKeyCredentials,
  thumbprintOfDer,
} from "./keyCredentials";
import { KeyWriteHistory, KeyWriteOptions, writeKeyCredentialsSafely } from "./keyWrites";
import { tellOperator } from "./log";
import { findServicePrincipal, readKeyCredentials } from "./servicePrincipals";
import { providerSeam } from "../seam";

export interface NpsCertificateCredentialOutputs extends NpsCertificateCredentialInputs {
  /** Declared "registered"; after refresh, what the tenant has for this certificate. */
  status: KeyStatus;
  servicePrincipalId: string;
  /** keyId of the certificate's key credential ("" when missing). */
  keyId: string;
}

/** Plain numbers: they are serialized with the provider. See keyWrites.ts for what they bound. */
export type KeyConvergenceOptions = KeyWriteOptions;

export interface KeyConvergence {
  keys: GraphKeyCredential[];
  history: KeyWriteHistory;
}

/** Makes the live collection hold our certificate, preserving every other key (the host's older one too). */
export function convergeNpsKeyCredential(
  graph: GraphClient,
  servicePrincipalId: string,
  npsHostname: string,
  certificate: NpsCertificatePublicPart,
  options: KeyConvergenceOptions = {},
): Promise<KeyConvergence> {
  return writeKeyCredentialsSafely(
    graph,
    servicePrincipalId,
    (live) => nextKeyCredentials(live, npsHostname, certificate),
    `${npsHostname}: certificate ${certificate.thumbprint} on the MFA Client service principal (${servicePrincipalId})`,
    options,
  );
}

export function checkNpsCertificateInputs(
  news: NpsCertificateCredentialInputs,
): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const host = news.npsHostname ?? "(no host)";
  const certificate = news.certificate;
  // In a preview the certificate is unknown until the host's NpsCertificate is created or updated.
  if ((certificate as unknown) === pulumi.runtime.unknownValue) return renewalDaysFailures(news);
  if (!certificate?.derBase64) {
    failures.push({
      property: "certificate",
      reason: `${host}: expected the certificate's DER as base64, found nothing`,
    });
    return failures;
  }
  const actual = thumbprintOfDer(certificate.derBase64);
  if (actual !== (certificate.thumbprint ?? "").toUpperCase()) {
    failures.push({
      property: "certificate",
      reason: `${host}: expected thumbprint ${certificate.thumbprint} to be the SHA-1 of the certificate, found ${actual}`,
    });
  }
  if (Number.isNaN(Date.parse(certificate.notBefore)) || Number.isNaN(Date.parse(certificate.notAfter))) {
    failures.push({ property: "certificate", reason: `${host}: expected ISO 8601 notBefore and notAfter` });
  }
  return [...failures, ...renewalDaysFailures(news)];
}

function renewalDaysFailures(news: NpsCertificateCredentialInputs): pulumi.dynamic.CheckFailure[] {
  if (Number.isInteger(news.renewalDays) && news.renewalDays >= 1) return [];
  const host = news.npsHostname ?? "(no host)";
  return [
    {
      property: "renewalDays",
      reason: `${host}: expected a whole number of days ≥ 1, found ${news.renewalDays}`,
    },
  ];
}

/** Properties that differ between the tenant (old outputs, after refresh) and the declaration. */
export function driftedCredentialProperties(
  olds: Partial<NpsCertificateCredentialOutputs>,
  news: NpsCertificateCredentialInputs,
): string[] {
  const drifted: string[] = [];
  if ((olds.clientAppId ?? "").toLowerCase() !== news.clientAppId.toLowerCase()) drifted.push("clientAppId");
  if ((olds.npsHostname ?? "").toLowerCase() !== news.npsHostname.toLowerCase()) drifted.push("npsHostname");
  if (
    (news.certificate as unknown) === pulumi.runtime.unknownValue ||
    olds.certificate?.thumbprint?.toUpperCase() !== news.certificate.thumbprint.toUpperCase()
  )
    drifted.push("certificate");
  if (olds.renewalDays !== news.renewalDays) drifted.push("renewalDays");
  if (olds.status !== undefined && olds.status !== "registered") drifted.push("status");
  return drifted;
}

export class NpsCertificateCredentialProvider implements pulumi.dynamic.ResourceProvider {
  private readonly session = new GraphSession();

  /** Options are plain numbers: they are serialized with the provider. */
  constructor(private readonly convergence: KeyConvergenceOptions = {}) {}

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.session.configure(req);
  }

  async check(_olds: unknown, news: NpsCertificateCredentialInputs): Promise<pulumi.dynamic.CheckResult> {
    return { inputs: news, failures: checkNpsCertificateInputs(news) };
  }

  async diff(_id: string, olds: NpsCertificateCredentialOutputs, news: NpsCertificateCredentialInputs) {
    return { changes: driftedCredentialProperties(olds, news).length > 0 };
  }

  async create(inputs: NpsCertificateCredentialInputs): Promise<pulumi.dynamic.CreateResult> {
    return {
      id: `${inputs.clientAppId}/${inputs.npsHostname.toLowerCase()}`,
      outs: await this.ensure(inputs),
    };
  }

  async update(
    _id: string,
    _olds: unknown,
    news: NpsCertificateCredentialInputs,
  ): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.ensure(news) };
  }

  async read(id: string, props: NpsCertificateCredentialOutputs): Promise<pulumi.dynamic.ReadResult> {
    const graph = this.session.graph();
    const sp = await findServicePrincipal(graph, props.clientAppId);
    const live = sp ? await readKeyCredentials(graph, sp.id) : [];
    const outs = this.outputs(props, sp?.id ?? "", live);
    const { servicePrincipalId: _sp, keyId: _key, ...liveInputs } = outs;
    return { id, props: outs, inputs: liveInputs };
  }

  async delete(_id: string, props: NpsCertificateCredentialOutputs): Promise<void> {
    tellOperator(
      `${props.npsHostname}: certificate ${props.certificate?.thumbprint} removed from the stack only. Its key ` +
        "credential was left on the MFA Client service principal: removing it would stop MFA on that NPS server. " +
        "Remove it in the Entra admin center once the server is retired.",
    );
  }

  private async ensure(inputs: NpsCertificateCredentialInputs): Promise<NpsCertificateCredentialOutputs> {
    const graph = this.session.graph();
    const sp = await findServicePrincipal(graph, inputs.clientAppId);
    if (!sp) {
      throw new Error(
        `${inputs.npsHostname}: expected the MFA Client service principal (appId ${inputs.clientAppId}) in the ` +
          "tenant, found none. It is created by the MfaTenant component: make the credential depend on it.",
      );
    }
    const { keys } = await convergeNpsKeyCredential(
      graph,
      sp.id,
      inputs.npsHostname,
      inputs.certificate,
      this.convergence,
    );
    const outs = this.outputs(inputs, sp.id, keys);
    if (outs.status !== "registered") {
      tellOperator(
        `${inputs.npsHostname}: certificate ${inputs.certificate.thumbprint} is registered but ${outs.status}: ` +
          "renew the NPS certificate on the server.",
      );
    }
    return outs;
  }

  private outputs(
    inputs: NpsCertificateCredentialInputs,
    servicePrincipalId: string,
    live: GraphKeyCredential[],
  ): NpsCertificateCredentialOutputs {
    const thumbprint = inputs.certificate.thumbprint.toUpperCase();
    const key = live.find((entry) => entry.key && thumbprintOfDer(entry.key) === thumbprint);
    return {
      clientAppId: inputs.clientAppId,
      npsHostname: inputs.npsHostname,
      certificate: inputs.certificate,
      renewalDays: inputs.renewalDays,
      status: keyStatus(live, inputs, new Date()),
      servicePrincipalId,
      keyId: key?.keyId ?? "",
    };
  }
}

export interface NpsCertificateCredentialArgs {
  /** appId of the MFA Client service principal (config/clouds.ts mfaClientAppId). */
  clientAppId: pulumi.Input<string>;
  npsHostname: pulumi.Input<string>;
  certificate: pulumi.Input<NpsCertificatePublicPart>;
  renewalDays: pulumi.Input<number>;
}

/** `pulumi-nodejs:dynamic/npsmfa:NpsCertificateCredential`: the NPS host's certificate is on the Client SP. */
export class NpsCertificateCredential extends pulumi.dynamic.Resource {
  declare readonly status: pulumi.Output<KeyStatus>;
  declare readonly keyId: pulumi.Output<string>;
  declare readonly servicePrincipalId: pulumi.Output<string>;

  constructor(name: string, args: NpsCertificateCredentialArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerSeam(dynamicTypeNames.npsCertificateCredential),
      name,
      { ...args, status: "registered", servicePrincipalId: undefined, keyId: undefined },
      opts,
      dynamicModule,
      dynamicTypeNames.npsCertificateCredential,
    );
  }
}
