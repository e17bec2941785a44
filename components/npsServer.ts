// One NPS server with the Entra MFA extension: the extension itself when an installer is declared, its
// certificate on the host, registered on the MFA Client service principal, pinned in the extension's settings,
// then IAS restarted (only when one of those changed) after the previous server's restart passed its health
// check. Nothing on a server starts before the previous server's restart: one server at a time.
import * as pulumi from "@pulumi/pulumi";
import { cloudExtensionSettings, CloudName, mfaClientAppId } from "../config/clouds";
import type { RadiusAuthentication } from "../config/keys";
import type { ExtensionConfig, NpsServerConfig, StackConfig, WinrmEndpointConfig } from "../config/schema";
import { NpsCertificateCredential } from "../providers/entra/npsCertificateCredential";
import { NpsSupersededKeys } from "../providers/entra/npsSupersededKeys";
import { componentTypes, WinrmEndpointInputs } from "../providers/resourceTypes";
import {
  IasRestart,
  NpsCertificate,
  NpsExtensionInstall,
  NpsExtensionSettings,
  WindowsProviderOptions,
} from "../providers/windows";

/** The endpoint as resources carry it: everything but the password, which providers read from config. */
export function winrmInputs(endpoint: WinrmEndpointConfig): WinrmEndpointInputs {
  const { password: _password, ...rest } = endpoint;
  return rest;
}

export function npsCertificateSubject(tenantId: string): string {
  return `CN=${tenantId}, OU=Microsoft NPS Extension`;
}

/**
 * OVERRIDE_NUMBER_MATCHING_WITH_OTP as declared, else FALSE (Approve/Deny) unless the network policy is declared
 * PAP: from extension 1.2.2216.1 a user with a TOTP method is asked for a code only PAP can carry, so a VPN
 * stack on MS-CHAPv2 or EAP needs FALSE (Learn: howto-mfa-nps-extension-vpn; how-to-mfa-number-match).
 */
export function overrideNumberMatchingWithOtp(
  extension: ExtensionConfig,
  radiusAuthentication: RadiusAuthentication | undefined,
): boolean | undefined {
  if (extension.overrideNumberMatchingWithOtp !== undefined) return extension.overrideNumberMatchingWithOtp;
  return radiusAuthentication === "pap" ? undefined : false;
}

/** The AzureMfa registry values for a tenant, its cloud, the optional settings, and the pinned certificate. */
export function extensionSettingsFor(
  tenantId: string,
  cloud: CloudName,
  extension: ExtensionConfig,
  certificateThumbprint: string,
  radiusAuthentication?: RadiusAuthentication,
): Record<string, string> {
  const flag = (value: boolean) => (value ? "TRUE" : "FALSE");
  const override = overrideNumberMatchingWithOtp(extension, radiusAuthentication);
  return {
    ...cloudExtensionSettings(tenantId, cloud),
    CLIENT_CERT_IDENTIFIER: certificateThumbprint,
    ...(extension.requireUserMatch === undefined
      ? {}
      : { REQUIRE_USER_MATCH: flag(extension.requireUserMatch) }),
    ...(override === undefined ? {} : { OVERRIDE_NUMBER_MATCHING_WITH_OTP: flag(override) }),
    ...(extension.ipWhitelist === undefined ? {} : { IP_WHITELIST: extension.ipWhitelist.join(";") }),
  };
}

export interface NpsServerArgs {
  tenantId: string;
  cloud: CloudName;
  server: NpsServerConfig;
  extension: ExtensionConfig;
  /** What the network policy allows (stack setting radiusAuthentication); unset: MS-CHAPv2 or EAP. */
  radiusAuthentication?: RadiusAuthentication;
  /** The previous server's restart in the rollout: nothing on this server starts before it is healthy. */
  previousRestart?: { hostname: string; restart: IasRestart };
  /** What the certificate's registration waits for (the MfaTenant's service principals). */
  tenantReady?: pulumi.Input<pulumi.Resource>[];
  /** Seconds IAS must stay healthy after its restart (default 10). */
  healthCheckSeconds?: number;
  /** Tests only: how providers reach the host. */
  providerOptions?: WindowsProviderOptions;
}

export class NpsServer extends pulumi.ComponentResource {
  readonly hostname: string;
  /** Only with extension.installer declared. */
  readonly install?: NpsExtensionInstall;
  readonly certificate: NpsCertificate;
  readonly credential: NpsCertificateCredential;
  readonly settings: NpsExtensionSettings;
  readonly restart: IasRestart;
  readonly supersededKeys: NpsSupersededKeys;

  constructor(name: string, args: NpsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentTypes.npsServer, name, {}, opts);
    const { hostname } = args.server;
    this.hostname = hostname;
    const host = { hostname, winrm: winrmInputs(args.server.winrm) };
    const options = args.providerOptions;
    const afterPrevious = args.previousRestart ? [args.previousRestart.restart] : [];
    const { installer, minimumVersion } = args.extension;

    this.install = installer
      ? new NpsExtensionInstall(
          `${name}-extension-install`,
          {
            ...host,
            // A URL's query may hold a token (a storage SAS): then the installer is kept secret in state.
            installer: installer.source.includes("?") ? pulumi.secret(installer) : installer,
            ...(minimumVersion ? { minimumVersion } : {}),
          },
          { parent: this, dependsOn: afterPrevious },
          options,
        )
      : undefined;
    const installedAt = this.install?.installedAt;
    this.certificate = new NpsCertificate(
      `${name}-certificate`,
      { ...host, tenantId: args.tenantId, renewalDays: args.server.certificateRenewalDays },
      { parent: this, dependsOn: [...afterPrevious, ...(this.install ? [this.install] : [])] },
      options,
    );
    this.credential = new NpsCertificateCredential(
      `${name}-credential`,
      {
        clientAppId: mfaClientAppId,
        npsHostname: hostname,
        certificate: this.certificate.certificate,
        renewalDays: args.server.certificateRenewalDays,
      },
      { parent: this, dependsOn: args.tenantReady },
    );
    this.settings = new NpsExtensionSettings(
      `${name}-extension`,
      {
        ...host,
        settings: this.certificate.certificate.apply((certificate) =>
          extensionSettingsFor(
            args.tenantId,
            args.cloud,
            args.extension,
            certificate.thumbprint,
            args.radiusAuthentication,
          ),
        ),
        ...(args.radiusAuthentication ? { radiusAuthentication: args.radiusAuthentication } : {}),
        ...(minimumVersion ? { minimumExtensionVersion: minimumVersion } : {}),
        ...(installedAt ? { extensionInstalledAt: installedAt } : {}),
      },
      { parent: this, dependsOn: [this.credential] },
      options,
    );
    this.restart = new IasRestart(
      `${name}-ias-restart`,
      {
        ...host,
        ...(args.previousRestart ? { previousHostname: args.previousRestart.hostname } : {}),
        triggers: {
          ...(installedAt ? { extension: installedAt } : {}),
          certificate: this.certificate.changedAt,
          settings: this.settings.changedAt,
        },
        healthCheckSeconds: args.healthCheckSeconds,
        checkExtensionToken: true,
        retireCertificates: {
          subject: npsCertificateSubject(args.tenantId),
          keepThumbprint: this.certificate.certificate.apply((certificate) => certificate.thumbprint),
        },
      },
      {
        parent: this,
        dependsOn: [this.settings, ...afterPrevious],
      },
      options,
    );
    // Rotation's last step: the host's older keys go only once IAS restarted with the new certificate and
    // its health check acquired a token with it. The key of whatever IAS last loaded stays too.
    this.supersededKeys = new NpsSupersededKeys(
      `${name}-superseded-keys`,
      {
        clientAppId: mfaClientAppId,
        npsHostname: hostname,
        keepThumbprints: pulumi
          .all([this.certificate.certificate, this.restart.loadedThumbprint])
          .apply(([certificate, loaded]) => [certificate.thumbprint, ...(loaded ? [loaded] : [])]),
      },
      { parent: this, dependsOn: [this.restart, this.credential] },
    );
    this.registerOutputs({
      certificateThumbprint: this.certificate.certificate.apply((certificate) => certificate.thumbprint),
      restartedAt: this.restart.restartedAt,
    });
  }
}

export interface NpsRolloutOptions {
  tenantReady?: pulumi.Input<pulumi.Resource>[];
  healthCheckSeconds?: number;
  providerOptions?: WindowsProviderOptions;
}

/** Every configured NPS server, in config order, each one's work starting after the previous one's restart. */
export function npsRollout(config: StackConfig, options: NpsRolloutOptions = {}): NpsServer[] {
  const servers: NpsServer[] = [];
  for (const server of config.npsServers) {
    const previous = servers[servers.length - 1];
    servers.push(
      new NpsServer(server.hostname, {
        tenantId: config.tenantId,
        cloud: config.cloud,
        server,
        extension: config.extension,
        radiusAuthentication: config.radiusAuthentication,
        previousRestart: previous && { hostname: previous.hostname, restart: previous.restart },
        tenantReady: options.tenantReady,
        healthCheckSeconds: options.healthCheckSeconds ?? config.iasHealthCheckSeconds,
        providerOptions: options.providerOptions,
      }),
    );
  }
  return servers;
}
