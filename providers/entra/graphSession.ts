// What each Entra provider holds at run time: the stack's tenant, cloud and npsmfa:graph settings read
// in `configure` (secrets as the engine decrypted them) and a Graph client made from them on first use.
// Nothing here is set when Pulumi serializes the provider, so no secret travels into state with it.
//
// Not config/providerConfig.ts's readProviderConfig: Pulumi serializes a provider's code by value, and
// the zod schema it would capture holds bound native functions, which cannot be serialized (measured:
// "bound safeParse ... could not be serialized"). The program validated the whole config with that
// schema before registering anything; here we only pick out what Graph needs, with the same names.
import type * as pulumi from "@pulumi/pulumi";
import { cloudNames } from "../../config/clouds";
import type { GraphConfig, StackConfig } from "../../config/schema";
import { graphClientFor, GraphClient } from "../../remote/graph/client";

export type GraphSettings = Pick<StackConfig, "tenantId" | "cloud" | "graph">;

/** The Graph part of the stack config, from the engine's config map (keys `npsmfa:<setting>`). */
export function graphSettingsFrom(source: { get(key: string): string | undefined }): GraphSettings {
  const tenantId = source.get("npsmfa:tenantId");
  if (!tenantId) {
    throw new Error(
      "npsmfa:tenantId: expected the Entra tenant ID, found nothing. Set it: pulumi config set npsmfa:tenantId <guid>",
    );
  }
  const cloud = source.get("npsmfa:cloud") ?? "public";
  if (!(cloudNames as readonly string[]).includes(cloud)) {
    throw new Error(`npsmfa:cloud: expected one of ${cloudNames.join(", ")}, found ${JSON.stringify(cloud)}`);
  }
  const graphText = source.get("npsmfa:graph");
  let graph: GraphConfig = {};
  if (graphText !== undefined) {
    try {
      graph = JSON.parse(graphText) as GraphConfig;
    } catch {
      throw new Error("npsmfa:graph: expected structured YAML (a map), found text that is not");
    }
  }
  return { tenantId, cloud: cloud as StackConfig["cloud"], graph };
}

export class GraphSession {
  private settings?: GraphSettings;
  private client?: GraphClient;

  configure(req: pulumi.dynamic.ConfigureRequest): void {
    this.settings = graphSettingsFrom(req.config);
    this.client = undefined;
  }

  graph(): GraphClient {
    if (!this.settings) {
      throw new Error(
        "The Entra provider was not configured: the Pulumi engine did not call configure with the stack's " +
          "config (npsmfa:tenantId, npsmfa:graph). Run it through `pulumi up` / `pulumi preview`.",
      );
    }
    this.client ??= graphClientFor(this.settings);
    return this.client;
  }
}
