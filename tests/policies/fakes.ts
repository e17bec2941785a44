// Fake CrossGuard arguments built as @pulumi/policy defines them, with props behind the library's own
// unknown-checking proxy so a value unknown during preview behaves as it does under the engine.
import * as policyRuntime from "@pulumi/policy";
import {
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as proxy from "@pulumi/policy/proxy";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import {
  componentTypes,
  DynamicTypeName,
  dynamicTypeNames,
  dynamicTypeToken,
  IasRestartInputs,
  NpsCertificateCredentialInputs,
  NpsExtensionInstallInputs,
  NpsCertificateOutputs,
  NpsCertificatePublicPart,
  NpsExtensionSettingsInputs,
  RadiusTimeoutInputs,
  ServicePrincipalEnabledInputs,
  WinrmEndpointInputs,
} from "../../providers/resourceTypes";

const { unknownCheckingProxy } = policyRuntime as unknown as { unknownCheckingProxy: <T>(props: T) => T };

/** The sentinel the engine sends for a string it cannot know during preview. */
export const unknownString = (proxy as unknown as { unknownStringValue: string }).unknownStringValue;

export const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const stackName = "urn:pulumi:prod::npsmfa";

export function urnOf(type: string, name: string): string {
  return `${stackName}::${type}::${name}`;
}

function options(overrides: Partial<PolicyResourceOptions> = {}): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...overrides,
  };
}

class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason ?? "not applicable");
}

export interface FakeResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  opts?: Partial<PolicyResourceOptions>;
  dependsOn?: FakeResource[];
}

export function resourceArgs(
  resource: FakeResource,
  config: Record<string, unknown> = {},
): ResourceValidationArgs {
  return {
    type: resource.type,
    name: resource.name,
    urn: urnOf(resource.type, resource.name),
    props: unknownCheckingProxy(resource.props),
    opts: options(resource.opts),
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
}

export function stackArgs(
  resources: FakeResource[],
  config: Record<string, unknown> = {},
): StackValidationArgs {
  const built = new Map<FakeResource, PolicyResource>();
  for (const resource of resources) {
    built.set(resource, {
      type: resource.type,
      name: resource.name,
      urn: urnOf(resource.type, resource.name),
      props: unknownCheckingProxy(resource.props),
      opts: options(resource.opts),
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    });
  }
  for (const [resource, policyResource] of built) {
    policyResource.dependencies = (resource.dependsOn ?? []).map((dependency) => {
      const found = built.get(dependency);
      if (!found) throw new Error(`dependency ${dependency.name} is not in the stack`);
      return found;
    });
  }
  return {
    resources: [...built.values()],
    stackTags: new Map(),
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
}

export interface Violation {
  message: string;
  urn?: string;
}

export async function validateResource(
  policy: ResourceValidationPolicy,
  resource: FakeResource,
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const validations: ResourceValidation[] = ([] as ResourceValidation[]).concat(
    policy.validateResource ?? [],
  );
  const args = resourceArgs(resource, config);
  for (const validation of validations) {
    await validation(args, (message, urn) => violations.push({ message, urn: urn ?? args.urn }));
  }
  return violations;
}

/** Violations of a stack rule, or "not applicable" when the rule says so. */
export async function validateStack(
  policy: StackValidationPolicy,
  resources: FakeResource[],
  config: Record<string, unknown> = {},
): Promise<Violation[] | "not applicable"> {
  const violations: Violation[] = [];
  try {
    await policy.validateStack(stackArgs(resources, config), (message, urn) =>
      violations.push({ message, urn }),
    );
  } catch (error) {
    if (error instanceof NotApplicable) return "not applicable";
    throw error;
  }
  return violations;
}

export async function stackViolations(
  policy: StackValidationPolicy,
  resources: FakeResource[],
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const result = await validateStack(policy, resources, config);
  if (result === "not applicable") throw new Error(`${policy.name} said it does not apply`);
  return result;
}

function dynamic<T extends object>(name: DynamicTypeName, resourceName: string, props: T): FakeResource {
  return { type: dynamicTypeToken(name), name: resourceName, props: props as Record<string, unknown> };
}

export function winrm(host: string, overrides: Partial<WinrmEndpointInputs> = {}): WinrmEndpointInputs {
  return {
    url: `https://${host}:5986/wsman`,
    auth: "ntlm",
    username: "CORP\\svc-npsmfa",
    operationTimeoutSeconds: 60,
    ...overrides,
  };
}

const daysFromNow = (days: number) => new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString();

export function publicPart(overrides: Partial<NpsCertificatePublicPart> = {}): NpsCertificatePublicPart {
  return {
    derBase64: "MIIB",
    thumbprint: "A".repeat(40),
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(700),
    ...overrides,
  };
}

export { daysFromNow };

export function servicePrincipal(
  appId: string,
  overrides: Partial<ServicePrincipalEnabledInputs> = {},
): FakeResource {
  const displayName =
    appId === mfaClientAppId ? "Azure Multi-Factor Auth Client" : "Azure Multi-Factor Auth Connector";
  return dynamic(dynamicTypeNames.servicePrincipalEnabled, `sp-${appId.slice(0, 8)}`, {
    appId,
    displayName,
    accountEnabled: true,
    ...overrides,
  });
}

export const bothServicePrincipals = () => [
  servicePrincipal(mfaClientAppId),
  servicePrincipal(mfaConnectorAppId),
];

export function npsCertificate(
  host: string,
  certificate: Partial<NpsCertificatePublicPart> = {},
): FakeResource {
  const props: NpsCertificateOutputs = {
    hostname: host,
    winrm: winrm(host),
    tenantId,
    renewalDays: 60,
    certificate: publicPart(certificate),
  };
  return dynamic(dynamicTypeNames.npsCertificate, `${host.split(".")[0]}-certificate`, props);
}

export function certificateCredential(
  host: string,
  overrides: Partial<NpsCertificateCredentialInputs> = {},
  certificate: Partial<NpsCertificatePublicPart> = {},
): FakeResource {
  const props: NpsCertificateCredentialInputs = {
    clientAppId: mfaClientAppId,
    npsHostname: host,
    certificate: publicPart(certificate),
    renewalDays: 60,
    ...overrides,
  };
  return dynamic(dynamicTypeNames.npsCertificateCredential, `${host.split(".")[0]}-credential`, props);
}

export function extensionSettings(
  host: string,
  settings: Record<string, string>,
  overrides: Partial<NpsExtensionSettingsInputs> = {},
): FakeResource {
  const props: NpsExtensionSettingsInputs = { hostname: host, winrm: winrm(host), settings, ...overrides };
  return dynamic(dynamicTypeNames.npsExtensionSettings, `${host.split(".")[0]}-extension`, props);
}

export function radiusTimeout(
  host: string,
  timeoutSeconds: unknown,
  npsServers = ["nps01.corp.example.com"],
): FakeResource {
  const props: Omit<RadiusTimeoutInputs, "timeoutSeconds"> & { timeoutSeconds: unknown } = {
    hostname: host,
    winrm: winrm(host),
    npsServers,
    timeoutSeconds,
  };
  return dynamic(dynamicTypeNames.radiusTimeout, `${host.split(".")[0]}-radius-timeout`, props);
}

export function extensionInstall(host: string, after: FakeResource[] = []): FakeResource {
  const props: NpsExtensionInstallInputs = {
    hostname: host,
    winrm: winrm(host),
    installer: { source: "\\\\files\\npsmfa\\NpsExtnForAzureMfaInstaller.exe", sha256: "ab".repeat(32) },
    minimumVersion: "1.2.2893.1",
  };
  return {
    ...dynamic(dynamicTypeNames.npsExtensionInstall, `${host.split(".")[0]}-extension-install`, props),
    dependsOn: after,
  };
}

export function iasRestart(host: string, previous?: FakeResource & { host?: string }): FakeResource {
  const props: IasRestartInputs = {
    hostname: host,
    winrm: winrm(host),
    triggers: { thumbprint: "A".repeat(40) },
    ...(previous ? { previousHostname: String(previous.props.hostname) } : {}),
  };
  return {
    ...dynamic(dynamicTypeNames.iasRestart, `${host.split(".")[0]}-ias-restart`, props),
    dependsOn: previous ? [previous] : [],
  };
}

export const mfaTenantComponent: FakeResource = { type: componentTypes.mfaTenant, name: "tenant", props: {} };
