// What each Entra provider holds at run time: the stack's tenant, cloud and npsmfa:graph settings read
// in `configure` (secrets as the engine decrypted them) and a Graph client made from them on first use.
// Nothing here is set when Pulumi serializes the provider, so no secret travels into state with it.
import type * as pulumi from "@pulumi/pulumi";
import { readProviderConfig } from "../../config/providerConfig";
import type { StackConfig } from "../../config/schema";
import { graphClientFor, GraphClient } from "../../remote/graph/client";

export type GraphSettings = Pick<StackConfig, "tenantId" | "cloud" | "graph">;

export class GraphSession {
  private settings?: GraphSettings;
  private client?: GraphClient;

  configure(req: pulumi.dynamic.ConfigureRequest): void {
    this.settings = readProviderConfig(req.config);
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
