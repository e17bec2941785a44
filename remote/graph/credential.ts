// Signing in to Entra ID the way an Azure Pulumi user already does: a client secret configured for
// the stack (npsmfa:graph.clientId + clientSecret), else DefaultAzureCredential's chain (environment
// secret or certificate, workload identity, managed identity, Azure CLI, ...). Identity's own HTTP
// pipeline gets the same https.Agent as Graph, so a lab CA is trusted explicitly, never by turning
// verification off.
import type * as https from "node:https";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { ClientSecretCredential, DefaultAzureCredential, TokenCredential } from "@azure/identity";
import { cloudEndpoints } from "../../config/clouds";

export interface SignInSettings {
  tenantId: string;
  authorityHost: string;
  clientId?: string;
  clientSecret?: string;
  agent?: https.Agent;
}

/** Instance discovery asks the public cloud about the authority; a lab or private authority has no entry there. */
function isKnownAuthority(authorityHost: string): boolean {
  const host = new URL(authorityHost).host.toLowerCase();
  return Object.values(cloudEndpoints).some((cloud) => new URL(cloud.loginUrl).host === host);
}

/** Options every @azure/identity credential takes: authority, and the CA agent on its pipeline. */
export function identityOptions(settings: Pick<SignInSettings, "authorityHost" | "agent">) {
  const agent = settings.agent;
  const useAgent: PipelinePolicy = {
    name: "npsmfaTrustedCaAgent",
    sendRequest: (request, next) => {
      request.agent = agent;
      return next(request);
    },
  };
  return {
    authorityHost: settings.authorityHost,
    disableInstanceDiscovery: !isKnownAuthority(settings.authorityHost),
    additionalPolicies: agent ? [{ policy: useAgent, position: "perCall" as const }] : [],
  };
}

export function credentialFor(settings: SignInSettings): TokenCredential {
  const options = identityOptions(settings);
  if (settings.clientId && settings.clientSecret) {
    return new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret, options);
  }
  return new DefaultAzureCredential({ ...options, tenantId: settings.tenantId });
}
