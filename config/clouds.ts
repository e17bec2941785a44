// Endpoints per Microsoft cloud. The NPS extension's registry values and the Graph/login
// hosts must agree with the tenant's cloud, or token requests go to a tenant that does not exist.

export const cloudNames = ["public", "usgov", "usgovdod", "china"] as const;
export type CloudName = (typeof cloudNames)[number];

export interface CloudEndpoints {
  /** Entra ID authority, as the extension's STS_URL wants it (trailing slash). */
  loginUrl: string;
  /** Microsoft Graph root, without the version segment. */
  graphUrl: string;
  /** AZURE_MFA_HOSTNAME. */
  mfaHostname: string;
  /** AZURE_MFA_RESOURCE_HOSTNAME. */
  mfaResourceHostname: string;
}

export const cloudEndpoints: Record<CloudName, CloudEndpoints> = {
  public: {
    loginUrl: "https://login.microsoftonline.com/",
    graphUrl: "https://graph.microsoft.com",
    mfaHostname: "strongauthenticationservice.auth.microsoft.com",
    mfaResourceHostname: "adnotifications.windowsazure.com",
  },
  usgov: {
    loginUrl: "https://login.microsoftonline.us/",
    graphUrl: "https://graph.microsoft.us",
    mfaHostname: "strongauthenticationservice.auth.microsoft.us",
    mfaResourceHostname: "adnotifications.windowsazure.us",
  },
  // US Government L5 (DoD): its own Graph root (Learn: graph/deployments); sign-in and the MFA service are
  // Azure Government's, the values Learn gives for Azure Government in howto-mfa-nps-extension.
  usgovdod: {
    loginUrl: "https://login.microsoftonline.us/",
    graphUrl: "https://dod-graph.microsoft.us",
    mfaHostname: "strongauthenticationservice.auth.microsoft.us",
    mfaResourceHostname: "adnotifications.windowsazure.us",
  },
  china: {
    loginUrl: "https://login.chinacloudapi.cn/",
    graphUrl: "https://microsoftgraph.chinacloudapi.cn",
    mfaHostname: "strongauthenticationservice.auth.microsoft.cn",
    mfaResourceHostname: "adnotifications.windowsazure.cn",
  },
};

/**
 * Hosts the NPS extension reaches over HTTPS in a cloud: its login host, the MFA service and the notification
 * service (Learn: howto-mfa-nps-extension, network requirements). The doctor probes them; the lab makes them reachable.
 */
export function extensionHosts(cloud: CloudName): string[] {
  const endpoints = cloudEndpoints[cloud];
  return [new URL(endpoints.loginUrl).hostname, endpoints.mfaHostname, endpoints.mfaResourceHostname];
}

/** AZURE_MFA_TARGET_PATH is the same in every cloud. */
export const mfaTargetPath = "StrongAuthenticationService.svc/Connector";

/** First-party applications the NPS extension needs enabled in the tenant. */
export const mfaClientAppId = "981f26a1-7f43-403b-a875-f8b09b8cd720";
export const mfaConnectorAppId = "1f5530b3-261a-47a9-b357-ded261e17918";

/** The extension's registry values that depend only on the tenant and its cloud (Learn: NPS extension, advanced configuration). */
export function cloudExtensionSettings(tenantId: string, cloud: CloudName): Record<string, string> {
  const endpoints = cloudEndpoints[cloud];
  return {
    TENANT_ID: tenantId,
    CLIENT_ID: mfaClientAppId,
    STS_URL: endpoints.loginUrl,
    AZURE_MFA_HOSTNAME: endpoints.mfaHostname,
    AZURE_MFA_RESOURCE_HOSTNAME: endpoints.mfaResourceHostname,
    AZURE_MFA_TARGET_PATH: mfaTargetPath,
  };
}
