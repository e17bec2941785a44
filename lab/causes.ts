// One cause of a failing MFA sign-in, put into an otherwise healthy lab: `npm run lab -- --seed <check id>`.
// Each is the smallest change that makes the doctor's check of that id fail (docs/doctor.md), made where
// an administrator's mistake or a lapse of time would make it: the tenant, an NPS server or a VPN server.
import { extensionHosts, mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import { CheckId, checkIds } from "../doctor/checks";
import { desiredKeyCredential, thumbprintOfKey } from "../providers/entra/keyCredentials";
import type { GraphEmulator } from "./graph";
import { iasLoadedRecordCommand } from "../remote/hostScripts";
import type { NpsRadiusServer } from "./radius/npsRadius";
import { askServer } from "./radius/vpnDial";
import { LabHost, labCloud, LabUserAccount, labUserPrincipalName } from "./stackFiles";
import type { DirectoryUser } from "./graph";
import { softwareOathMethod } from "./graph/users";
import { labHostRunner } from "./windows/localRunner";
import { authenticationTypes } from "../doctor/facts";
import {
  authSrvParametersKey,
  azureMfaKey,
  certificateDerBase64,
  networkServiceSid,
  rrasDefaultTimeoutSeconds,
  iasLoadedKey,
  installExtension,
  selfSignedNpsCertificate,
  startIas,
  updateHostState,
} from "./windows/hostState";

// Every doctor check the lab can bring about, in the doctor's order. The others need what the lab has no part
// for: an unreachable host is no one cause, the lab has no RADIUS proxy role, and the ledger only warns.
// A new check id is a cause here (and must get a case in applyCause) unless it is listed as not seedable.
const notSeedable = [
  "host-unreachable",
  "proxy-timeout-short",
  "credential-ledger",
] as const satisfies readonly CheckId[];
export type LabCause = Exclude<CheckId, (typeof notSeedable)[number]>;
export const labCauses: readonly LabCause[] = checkIds.filter(
  (id): id is LabCause => !(notSeedable as readonly CheckId[]).includes(id),
);

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
  /** Each NPS host's RADIUS side, by host name: causes that need a sign-in to have happened send one. */
  radius: Map<string, NpsRadiusServer>;
  users: LabUserAccount[];
}

/**
 * One sign-in through the first VPN server to the first NPS server, as RRAS sends it; over when that NPS has
 * handled it (and logged its events), not after RRAS's timeout.
 */
export async function signInOnce(context: Pick<CauseContext, "hosts" | "radius" | "users">) {
  const nps = firstOfRole(context.hosts, "nps");
  const vpn = firstOfRole(context.hosts, "vpn");
  const server = context.radius.get(nps.name);
  const [user] = context.users;
  if (!server || !user)
    throw new Error(`lab: no RADIUS side on ${nps.name}, or no lab user, to sign in with`);
  const handled = server.nextHandled();
  const stop = new AbortController();
  const answer = askServer(
    { port: server.port, secret: server.secret },
    { vpnHostname: vpn.name, user: user.name, password: user.password },
    120_000,
    stop.signal,
  );
  const outcome = await Promise.race([handled, answer.then(() => undefined)]);
  stop.abort();
  await answer;
  if (!outcome) throw new Error(`lab: ${nps.name} never handled ${user.name}'s sign-in`);
  return outcome;
}

/** The user causes change the first lab user, whose UPN `doctor --user` is then given. */
export function causeUser(context: Pick<CauseContext, "users">): string {
  const [user] = context.users;
  if (!user) throw new Error("lab: this cause needs a lab user");
  return labUserPrincipalName(user.name);
}

function changeUser(context: CauseContext, change: (user: DirectoryUser) => DirectoryUser | undefined) {
  const upn = causeUser(context);
  return context.graph.changeUsers((users) =>
    users.flatMap((user) => (user.userPrincipalName === upn ? (change(user) ?? []) : [user])),
  );
}

/** Every NPS server's network policy allows MS-CHAPv2 alone, and every VPN server dials with it. */
function useMsChapV2Only(hosts: LabHost[]): void {
  for (const host of hosts) {
    updateHostState(host.stateFile, (state) => {
      if (host.role === "vpn") state.userAuthProtocolAccepted = ["MsChapv2"];
      else
        for (const policy of state.networkPolicies ?? [])
          policy.authenticationTypes = [authenticationTypes.mschapv2];
    });
  }
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
      // A release from before CLIENT_CERT_IDENTIFIER was read, with the thumbprint pinned all the same;
      // IAS runs it (installed, then restarted).
      updateHostState(nps().stateFile, (state) => {
        installExtension(state, "1.0.1.40");
        startIas(state);
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
    case "ias-restart-pending": {
      // A server npsmfa manages carries the record of what IAS loaded, made by the real IasLoaded.ps1; then
      // a rotation by hand (new certificate pinned and registered, the old key removed) without a restart.
      const host = nps();
      const recorded = await labHostRunner(host.name, host.stateFile).runPowerShell(iasLoadedRecordCommand());
      if (recorded.exitCode !== 0)
        throw new Error(`lab: recording what IAS loaded on ${host.name} failed: ${recorded.stderr}`);
      const now = Date.now();
      return replaceCertificate(context, new Date(now - 600_000), new Date(now + 730 * day));
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
    case "user-not-found":
      return changeUser(context, () => undefined);
    case "user-disabled":
      return changeUser(context, (user) => ({ ...user, accountEnabled: false }));
    case "user-not-synced":
      // A cloud-only account of the same name: Entra has it, AD DS (where NPS checks the password) does not.
      return changeUser(context, (user) => ({
        ...user,
        onPremisesSyncEnabled: null,
        onPremisesUserPrincipalName: null,
      }));
    case "user-no-mfa-method":
      return changeUser(context, (user) => ({
        ...user,
        authenticationMethods: user.authenticationMethods.filter(
          (method) => method.type === "passwordAuthenticationMethod",
        ),
      }));
    case "user-method-protocol":
      // Codes only (an authenticator app as OATH TOTP) behind a policy that allows MS-CHAPv2 alone.
      useMsChapV2Only(hosts);
      return changeUser(context, (user) => ({
        ...user,
        authenticationMethods: [
          ...user.authenticationMethods.filter((method) => method.type === "passwordAuthenticationMethod"),
          softwareOathMethod(),
        ],
      }));
    case "number-matching-totp":
      // A VPN stack set up before number matching and before npsmfa (so no record of what IAS loaded):
      // MS-CHAPv2, IAS started without OVERRIDE_NUMBER_MATCHING_WITH_OTP, a current extension, and a user
      // whose Authenticator also gives codes.
      useMsChapV2Only(hosts);
      for (const host of hosts.filter((entry) => entry.role === "nps"))
        updateHostState(host.stateFile, (state) => {
          delete state.registry[azureMfaKey].OVERRIDE_NUMBER_MATCHING_WITH_OTP;
          delete state.registry[iasLoadedKey];
          startIas(state);
        });
      return changeUser(context, (user) => ({
        ...user,
        authenticationMethods: [...user.authenticationMethods, softwareOathMethod()],
      }));
    case "user-methods-retiring":
      // A phone for SMS and calls, and nothing else the extension can use.
      return changeUser(context, (user) => ({
        ...user,
        authenticationMethods: [
          ...user.authenticationMethods.filter((method) => method.type === "passwordAuthenticationMethod"),
          {
            type: "phoneAuthenticationMethod",
            id: "3179e48a-750b-4051-897c-87b9720928f7",
            properties: {
              phoneNumber: "+1 2065550123",
              phoneType: "mobile",
              smsSignInState: "notAllowedByPolicy",
            },
          },
        ],
      }));
    case "recent-token-errors": {
      // Errors that happened and stopped: the Client disabled for one sign-in, which the extension fails
      // with AADSTS7000112 and NPS discards (logged as it happens), then enabled again. Sign-in works now;
      // the doctor still reports what users met since --since, and which check explained it.
      const enable = (accountEnabled: boolean) =>
        graph.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, accountEnabled }));
      await enable(false);
      const outcome = await signInOnce(context).finally(() => enable(true));
      if (outcome.outcome !== "discarded")
        throw new Error(`lab: expected the sign-in to be discarded, found ${outcome.outcome}`);
      return;
    }
    case "radius-timeout-short":
      for (const vpn of hosts.filter((host) => host.role === "vpn"))
        updateHostState(vpn.stateFile, (state) => {
          for (const entry of state.remoteAccessRadius) entry.timeout = rrasDefaultTimeoutSeconds;
        });
      return;
    default: {
      const unseeded: never = cause;
      throw new Error(`lab: no seed for ${String(unseeded)}`);
    }
  }
}
