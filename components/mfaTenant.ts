// The tenant side of the NPS extension: the Azure Multi-Factor Auth Client and Connector service
// principals exist and are enabled (the article's fix, without MSOnline). NPS servers' certificates are
// registered on the Client by their own NpsServer components, which depend on `servicePrincipals`.
import * as pulumi from "@pulumi/pulumi";
import { mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import { ServicePrincipalEnabled } from "../providers/entra/servicePrincipalEnabled";
import { componentTypes } from "../providers/resourceTypes";

export interface MfaTenantArgs {
  /** Entra tenant ID, for outputs and names; the providers sign in to the stack's npsmfa:tenantId. */
  tenantId: string;
}

export class MfaTenant extends pulumi.ComponentResource {
  /** Azure Multi-Factor Auth Client: the SP NPS certificates are registered on. */
  readonly client: ServicePrincipalEnabled;
  /** Azure Multi-Factor Auth Connector. */
  readonly connector: ServicePrincipalEnabled;
  /** Both, for `dependsOn` (NpsServer's tenantReady). */
  readonly servicePrincipals: ServicePrincipalEnabled[];

  constructor(name: string, args: MfaTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentTypes.mfaTenant, name, {}, opts);
    this.client = new ServicePrincipalEnabled(
      `${name}-mfa-client`,
      { appId: mfaClientAppId, displayName: "Azure Multi-Factor Auth Client" },
      { parent: this },
    );
    this.connector = new ServicePrincipalEnabled(
      `${name}-mfa-connector`,
      { appId: mfaConnectorAppId, displayName: "Azure Multi-Factor Auth Connector" },
      { parent: this },
    );
    this.servicePrincipals = [this.client, this.connector];
    this.registerOutputs({
      tenantId: args.tenantId,
      clientServicePrincipalId: this.client.servicePrincipalId,
      connectorServicePrincipalId: this.connector.servicePrincipalId,
    });
  }
}
