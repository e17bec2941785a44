// A healthy estate's facts, as gatherFacts would return them, for tests of what is judged or exported from
// facts without a lab (diagnose, the monitor's metrics).
import { cloudExtensionSettings, mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import type { EstateFacts, HostCertificateFacts, NpsHostFacts } from "../../doctor/facts";
import { desiredKeyCredential, GraphKeyCredential } from "../../providers/entra/keyCredentials";

export const tenantId = "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40";
export const now = new Date("2026-12-01T12:00:00Z");
export const day = 86_400_000;

export function certificate(thumbprint: string, daysLeft: number): HostCertificateFacts {
  return {
    thumbprint,
    subject: `CN=${tenantId}, OU=Microsoft NPS Extension`,
    notBefore: new Date(now.getTime() - 30 * day).toISOString(),
    notAfter: new Date(now.getTime() + daysLeft * day).toISOString(),
    hasPrivateKey: true,
    networkServiceCanRead: true,
  };
}

export function key(hostname: string, host: HostCertificateFacts, displayName?: string): GraphKeyCredential {
  const credential = desiredKeyCredential(hostname, {
    derBase64: "",
    thumbprint: host.thumbprint,
    notBefore: host.notBefore,
    notAfter: host.notAfter,
  });
  return { ...credential, key: null, displayName: displayName ?? credential.displayName };
}

export function healthyEstate(): EstateFacts {
  const nps01 = certificate("A".repeat(40), 400);
  const host: NpsHostFacts = {
    hostname: "nps01",
    certificates: [nps01],
    extensionSettings: {
      ...cloudExtensionSettings(tenantId, "public"),
      CLIENT_CERT_IDENTIFIER: nps01.thumbprint,
    },
    authorizationDlls: ["C:\\Program Files\\Microsoft\\AzureMfa\\Extensions\\MfaNpsAuthzExt.dll"],
    extensionDlls: ["C:\\Program Files\\Microsoft\\AzureMfa\\Extensions\\MfaNpsAuthnExt.dll"],
    extensionVersion: "1.2.2893.1",
    iasStatus: "Running",
    iasRestartPending: false,
    networkPolicies: [{ name: "Always On VPN", merit: 1, enabled: true, authenticationTypes: [1] }],
    tls12: {
      clientEnabled: null,
      clientDisabledByDefault: null,
      serverEnabled: null,
      strongCrypto: 1,
      strongCryptoWow6432: 1,
    },
    endpoints: [
      "login.microsoftonline.com",
      "strongauthenticationservice.auth.microsoft.com",
      "adnotifications.windowsazure.com",
    ].map((name) => ({ host: name, port: 443, reachable: true })),
    events: [],
    tokenProbe: null,
  };
  const sp = (appId: string, displayName: string, keyCredentials: GraphKeyCredential[]) => ({
    appId,
    displayName,
    id: appId,
    found: true,
    accountEnabled: true,
    keyCredentials,
  });
  return {
    tenant: {
      tenantId,
      cloud: "public",
      client: sp(mfaClientAppId, "Azure Multi-Factor Auth Client", [key("nps01", nps01)]),
      connector: sp(mfaConnectorAppId, "Azure Multi-Factor Auth Connector", []),
    },
    npsHosts: [host],
    vpnHosts: [
      {
        hostname: "vpn01",
        radiusServers: [{ serverName: "nps01", purpose: "Authentication", timeoutSeconds: 60 }],
      },
    ],
    proxyHosts: [
      {
        hostname: "proxy01",
        remoteServers: [{ group: "MFA NPS", address: "nps01", timeoutSeconds: 60 }],
      },
    ],
    declaredRadius: { vpn01: ["nps01"] },
    renewalDays: { nps01: 60 },
    since: new Date(now.getTime() - day).toISOString(),
    now: now.toISOString(),
  };
}
