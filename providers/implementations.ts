// The providers' real code, as the serialized seam (providers/seam.ts) loads it inside the
// dynamic-provider host: one instance per resource type and host process, so the settings `configure`
// read stay for the calls after it. Loaded as an ordinary module, never serialized.
import type * as pulumi from "@pulumi/pulumi";
import { NpsCertificateCredentialProvider } from "./entra/npsCertificateCredential";
import { NpsSupersededKeysProvider } from "./entra/npsSupersededKeys";
import { ServicePrincipalEnabledProvider } from "./entra/servicePrincipalEnabled";
import { DynamicTypeName } from "./resourceTypes";
import { IasRestartProvider } from "./windows/iasRestart";
import { NpsCertificateProvider } from "./windows/npsCertificate";
import { NpsExtensionInstallProvider } from "./windows/npsExtensionInstall";
import { NpsExtensionSettingsProvider } from "./windows/npsExtensionSettings";
import { RadiusTimeoutProvider } from "./windows/radiusTimeout";

const instances: Partial<Record<DynamicTypeName, pulumi.dynamic.ResourceProvider>> = {};

function newProvider(kind: DynamicTypeName): pulumi.dynamic.ResourceProvider {
  switch (kind) {
    case "ServicePrincipalEnabled":
      return new ServicePrincipalEnabledProvider();
    case "NpsCertificateCredential":
      return new NpsCertificateCredentialProvider();
    case "NpsSupersededKeys":
      return new NpsSupersededKeysProvider();
    case "NpsCertificate":
      return new NpsCertificateProvider();
    case "NpsExtensionSettings":
      return new NpsExtensionSettingsProvider();
    case "NpsExtensionInstall":
      return new NpsExtensionInstallProvider();
    case "RadiusTimeout":
      return new RadiusTimeoutProvider();
    case "IasRestart":
      return new IasRestartProvider();
  }
}

export function providerFor(kind: DynamicTypeName): pulumi.dynamic.ResourceProvider {
  return (instances[kind] ??= newProvider(kind));
}
