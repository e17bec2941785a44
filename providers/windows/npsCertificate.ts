// The NPS server's Entra MFA certificate on its host: subject CN=<tenantId>, OU=Microsoft NPS Extension
// in LocalMachine\My, private key readable by NETWORK SERVICE, valid beyond the renewal window. Makes a
// new one when needed and never removes one (IasRestart retires superseded ones after a healthy restart).
import * as pulumi from "@pulumi/pulumi";
import {
  dynamicModule,
  dynamicTypeNames,
  NpsCertificateInputs,
  NpsCertificatePublicPart,
} from "../resourceTypes";
import { changedProperties, nextChangedAt } from "./compare";
import { HostStateProvider } from "./hostProvider";
import { hostnameFailure, WindowsProviderOptions } from "./options";
import { providerSeam } from "../seam";

interface CertificateScriptResult {
  certificate: NpsCertificatePublicPart | null;
  keyReadableByNetworkService: boolean;
  drift: { name: string; expected: string; found: string }[];
  changed: string[];
}

export interface NpsCertificateState extends NpsCertificateInputs {
  /** The certificate the extension should use; absent when the host has no usable one. */
  certificate?: NpsCertificatePublicPart;
  /** When this provider last changed the host ("" never): IasRestart restarts when it moves. */
  changedAt: string;
  /** What the host lacks, in words, as of the last read. */
  drift: string[];
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const dayMs = 86_400_000;

/** Settings of a certificate that differ between the host (outputs after read) and the declaration. */
export function certificateDrift(
  live: Partial<NpsCertificateState>,
  declared: NpsCertificateInputs,
): string[] {
  const drifted = changedProperties(live, declared, [
    "tenantId",
    "renewalDays",
    "usableCertificate",
    "keyReadableByNetworkService",
  ]);
  const notAfter = Date.parse(live.certificate?.notAfter ?? "");
  const renewDue = notAfter - declared.renewalDays * dayMs <= Date.now();
  if (live.usableCertificate && renewDue && !drifted.includes("usableCertificate"))
    drifted.push("usableCertificate");
  return drifted;
}

function stateFrom(
  inputs: NpsCertificateInputs,
  result: CertificateScriptResult,
  changedAt: string,
): NpsCertificateState {
  return {
    ...inputs,
    usableCertificate: result.certificate !== null,
    keyReadableByNetworkService: result.certificate !== null && result.keyReadableByNetworkService,
    ...(result.certificate ? { certificate: result.certificate } : {}),
    changedAt,
    drift: result.drift.map((entry) => `${entry.name}: expected ${entry.expected}, found ${entry.found}`),
  };
}

export class NpsCertificateProvider extends HostStateProvider<NpsCertificateInputs, NpsCertificateState> {
  async check(_olds: unknown, news: NpsCertificateInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures = hostnameFailure(news.hostname);
    if (!guidPattern.test(String(news.tenantId))) {
      failures.push({
        property: "tenantId",
        reason: `expected a GUID, found ${JSON.stringify(news.tenantId)}`,
      });
    }
    if (!Number.isInteger(news.renewalDays) || news.renewalDays < 1 || news.renewalDays > 729) {
      failures.push({ property: "renewalDays", reason: `expected 1-729 days, found ${news.renewalDays}` });
    }
    return { inputs: { ...news, usableCertificate: true, keyReadableByNetworkService: true }, failures };
  }

  async read(id: string, props: NpsCertificateState): Promise<pulumi.dynamic.ReadResult> {
    if (this.session.forgets(props.hostname, "NpsCertificate")) return { id: "", props: {} };
    const result = await this.session.run<CertificateScriptResult>(props.hostname, "NpsCertificate", {
      mode: "get",
      tenantId: props.tenantId,
      renewalDays: props.renewalDays,
      preferredThumbprint: props.certificate?.thumbprint ?? "",
    });
    const live = stateFrom(props, result, props.changedAt ?? "");
    return this.readResult(id, live, ["certificate", "changedAt", "drift"]);
  }

  // delete forgets: the certificate may still be what the extension uses; IasRestart retires old ones.

  protected drift(live: NpsCertificateState, declared: NpsCertificateInputs): string[] {
    return certificateDrift(live, declared);
  }

  protected async apply(
    inputs: NpsCertificateInputs,
    previous?: NpsCertificateState,
  ): Promise<NpsCertificateState> {
    const preferredThumbprint = previous?.certificate?.thumbprint ?? "";
    const result = await this.session.run<CertificateScriptResult>(inputs.hostname, "NpsCertificate", {
      mode: "set",
      tenantId: inputs.tenantId,
      renewalDays: inputs.renewalDays,
      preferredThumbprint,
    });
    if (result.certificate === null || !result.keyReadableByNetworkService) {
      throw new Error(
        `${inputs.hostname}: expected a usable NPS certificate readable by NETWORK SERVICE after applying, found ` +
          `${result.drift.map((entry) => entry.found).join("; ") || "none"}`,
      );
    }
    const replacedSinceRecorded =
      previous?.certificate !== undefined &&
      previous.certificate.thumbprint !== result.certificate.thumbprint;
    return stateFrom(inputs, result, nextChangedAt(result.changed, previous, replacedSinceRecorded));
  }
}

export class NpsCertificate extends pulumi.dynamic.Resource {
  declare readonly certificate: pulumi.Output<NpsCertificatePublicPart>;
  declare readonly changedAt: pulumi.Output<string>;

  constructor(
    name: string,
    args: pulumi.Inputs,
    opts?: pulumi.CustomResourceOptions,
    options: WindowsProviderOptions = {},
  ) {
    super(
      options.runnerFor ? new NpsCertificateProvider(options) : providerSeam(dynamicTypeNames.npsCertificate),
      name,
      { certificate: undefined, changedAt: undefined, drift: undefined, ...args },
      opts,
      dynamicModule,
      dynamicTypeNames.npsCertificate,
    );
  }
}
