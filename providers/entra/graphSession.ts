// What each Entra provider holds at run time: the stack's tenant, cloud and npsmfa:graph settings read
// in `configure` (secrets as the engine decrypted them) and a Graph client made from them on first use,
// shared by every Entra provider in the process with the same settings: one sign-in, and reads from
// different resources batched together (GraphClient.get). Nothing here is set when Pulumi serializes the
// provider, so no secret travels into state with it.
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { readProviderConfig } from "../../config/providerConfig";
import type { StackConfig } from "../../config/schema";
import { graphClientFor, GraphClient } from "../../remote/graph/client";

export type GraphSettings = Pick<StackConfig, "tenantId" | "cloud" | "graph">;

const clients = new Map<string, GraphClient>();

/** Same tenant, cloud and Graph settings: same client. The secret enters the key only hashed. */
function sharedClient(settings: GraphSettings): GraphClient {
  const { clientSecret, ...graph } = settings.graph;
  const key = JSON.stringify([
    settings.tenantId,
    settings.cloud,
    graph,
    createHash("sha256")
      .update(clientSecret ?? "")
      .digest("hex"),
  ]);
  let client = clients.get(key);
  if (!client) {
    client = graphClientFor(settings);
    clients.set(key, client);
  }
  return client;
}

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
    this.client ??= sharedClient(this.settings);
    return this.client;
  }
}
