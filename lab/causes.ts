// One cause of a failing MFA sign-in, put into an otherwise healthy lab: `npm run lab -- --seed <check id>`.
// Each is the smallest change that makes the doctor's check of that id fail (docs/doctor.md), made where
// an administrator's mistake or a lapse of time would make it: the tenant, an NPS server or a VPN server.
import { extensionHosts, mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import type { CheckId } from "../doctor/checks";
import { desiredKeyCredential, thumbprintOfKey } from "../providers/entra/keyCredentials";
import type { GraphEmulator } from "./graph";
import { LabHost, labCloud } from "./stackFiles";
import {
  authSrvParametersKey,
  azureMfaKey,
  certificateDerBase64,
  networkServiceSid,
  selfSignedNpsCertificate,
  updateHostState,
} from "./windows/hostState";

export const labCauses = [
  "client-sp-disabled",
  "connector-sp-disabled",
  "ias-not-running",
  "extension-dlls",
  "extension-version",
  "extension-settings",
  "certificate-missing",
  "certificate-expired",
  "certificate-renewal-due",
  "key-acl-missing",
  "certificate-not-registered",
  "tls12-disabled",
  "endpoint-unreachable",
  "radius-timeout-short",
  // A cause id must be a doctor check id: the doctor names what the lab seeds.
] as const satisfies readonly CheckId[];
export type LabCause = (typeof labCauses)[number];

const tls12ClientKey =
  "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client";
const day = 86_400_000;

function firstOfRole(hosts: LabHost[], role: LabHost["role"]): LabHost {
  const host = hosts.find((entry) => entry.role === role);
  if (!host) throw new Error(`lab: this cause needs at least one ${role} host (--${role} 1 or more)`);
  return host;
}

/** Gives the first NPS server another certificate, pinned and registered in place of its old one. */
async function replaceCertificate(context: CauseContext, notBefore: Date, notAfter: Date): Promise<void> {
  const host = firstOfRole(context.hosts, "nps");
  const certificate = selfSignedNpsCertificate(context.tenantId, { notBefore, notAfter });
  let previous = "";
  updateHostState(host.stateFile, (state) => {
    previous = state.certificates[0]?.thumbprint ?? "";
    state.certificates = [certificate];
    state.registry[azureMfaKey].CLIENT_CERT_IDENTIFIER = certificate.thumbprint;
  });
  const key = desiredKeyCredential(host.name, {
    derBase64: certificateDerBase64(certificate),
    thumbprint: certificate.thumbprint,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  });
  await context.graph.changeServicePrincipal(mfaClientAppId, (sp) => ({
    ...sp,
    keyCredentials: [...sp.keyCredentials.filter((entry) => thumbprintOfKey(entry) !== previous), key],
  }));
}

export interface CauseContext {
  hosts: LabHost[];
  graph: GraphEmulator;
  tenantId: string;
}

export async function applyCause(cause: LabCause, context: CauseContext): Promise<void> {
  const { hosts, graph } = context;
  const nps = () => firstOfRole(hosts, "nps");
  switch (cause) {
    case "client-sp-disabled":
      return graph.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, accountEnabled: false }));
    case "connector-sp-disabled":
      return graph.changeServicePrincipal(mfaConnectorAppId, (sp) => ({ ...sp, accountEnabled: false }));
    case "ias-not-running":
      updateHostState(nps().stateFile, (state) => {
        state.services.IAS.status = "Stopped";
      });
      return;
    case "extension-dlls":
      updateHostState(nps().stateFile, (state) => {
        delete state.registry[authSrvParametersKey].AuthorizationDLLs;
      });
      return;
    case "extension-version":
      // A release from before CLIENT_CERT_IDENTIFIER was read, with the thumbprint pinned all the same.
      updateHostState(nps().stateFile, (state) => {
        state.npsExtensionVersion = "1.0.1.40";
      });
      return;
    case "extension-settings":
      updateHostState(nps().stateFile, (state) => {
        delete state.registry[azureMfaKey].STS_URL;
      });
      return;
    case "certificate-missing":
      updateHostState(nps().stateFile, (state) => {
        state.certificates = [];
      });
      return;
    case "certificate-expired": {
      const now = Date.now();
      return replaceCertificate(context, new Date(now - 731 * day), new Date(now - day));
    }
    case "certificate-renewal-due": {
      const now = Date.now();
      return replaceCertificate(context, new Date(now - 700 * day), new Date(now + 30 * day));
    }
    case "key-acl-missing":
      updateHostState(nps().stateFile, (state) => {
        for (const certificate of state.certificates)
          certificate.keyAcl = certificate.keyAcl.filter((rule) => rule.sid !== networkServiceSid);
      });
      return;
    case "certificate-not-registered": {
      let thumbprint = "";
      updateHostState(nps().stateFile, (state) => {
        thumbprint = state.certificates[0].thumbprint;
      });
      return graph.changeServicePrincipal(mfaClientAppId, (sp) => ({
        ...sp,
        keyCredentials: sp.keyCredentials.filter((key) => thumbprintOfKey(key) !== thumbprint),
      }));
    }
    case "tls12-disabled":
      updateHostState(nps().stateFile, (state) => {
        state.registry[tls12ClientKey] = { Enabled: 0, DisabledByDefault: 1 };
      });
      return;
    case "endpoint-unreachable": {
      // The login host of the lab's cloud, blocked as a firewall would block it.
      const [loginHost] = extensionHosts(labCloud);
      updateHostState(nps().stateFile, (state) => {
        state.network.tcpReachable = { ...state.network.tcpReachable, [`${loginHost}:443`]: false };
      });
      return;
    }
    case "radius-timeout-short":
      for (const vpn of hosts.filter((host) => host.role === "vpn"))
        updateHostState(vpn.stateFile, (state) => {
          for (const entry of state.remoteAccessRadius) entry.timeout = 5;
        });
      return;
  }
}
