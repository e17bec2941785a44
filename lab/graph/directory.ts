// The emulated tenant's data and the pure rules Graph applies to it: service principal shape,
// $select projection (with `key` only on a single object), keyCredentials validation, seeds.
import * as crypto from "node:crypto";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import type { DirectoryUser } from "./users";

export type ServicePrincipal = Record<string, unknown> & {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  keyCredentials: KeyCredential[];
};

export interface KeyCredential {
  keyId: string;
  type: string;
  usage: string;
  key: string | null;
  displayName: string | null;
  customKeyIdentifier: string | null;
  startDateTime: string;
  endDateTime: string;
}

/** An application that may sign in to the emulator (client credentials), with its Graph app roles. */
export interface RegisteredClient {
  clientId: string;
  /** SHA-256 of each client secret, hex: the state file never holds a secret. */
  secretHashes: string[];
  certificatePems: string[];
  roles: string[];
}

export interface TenantState {
  tenantId: string;
  /** HMAC key of the emulator's access tokens, shared through the state file by every emulator process. */
  tokenSigningKey: string;
  servicePrincipals: ServicePrincipal[];
  clients: RegisteredClient[];
  /** Absent in state files written before the emulator knew users: read as none. */
  users?: DirectoryUser[];
}

export class GraphRuleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Microsoft's own tenant, owner of first-party applications. */
const microsoftServicesTenantId = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/** First-party applications whose service principal POST /servicePrincipals {appId} can create. */
export const firstPartyApplications: Record<string, string> = {
  [mfaClientAppId]: "Azure Multi-Factor Auth Client",
  [mfaConnectorAppId]: "Azure Multi-Factor Auth Connector",
  "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
};

export function newServicePrincipal(appId: string, accountEnabled: boolean): ServicePrincipal {
  const displayName = firstPartyApplications[appId];
  if (!displayName) {
    throw new GraphRuleError(
      400,
      "Request_BadRequest",
      `The appId '${appId}' of the service principal does not reference a valid application object.`,
    );
  }
  return {
    id: crypto.randomUUID(),
    deletedDateTime: null,
    accountEnabled,
    alternativeNames: [],
    appDisplayName: displayName,
    appDescription: null,
    appId,
    applicationTemplateId: null,
    appOwnerOrganizationId: microsoftServicesTenantId,
    appRoleAssignmentRequired: false,
    createdDateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    description: null,
    disabledByMicrosoftStatus: null,
    displayName,
    homepage: null,
    loginUrl: null,
    logoutUrl: null,
    notes: null,
    notificationEmailAddresses: [],
    preferredSingleSignOnMode: null,
    preferredTokenSigningKeyThumbprint: null,
    replyUrls: [],
    servicePrincipalNames: [appId],
    servicePrincipalType: "Application",
    signInAudience: "AzureADMultipleOrgs",
    tags: [],
    tokenEncryptionKeyId: null,
    info: {
      logoUrl: null,
      marketingUrl: null,
      privacyStatementUrl: null,
      supportUrl: null,
      termsOfServiceUrl: null,
    },
    addIns: [],
    appRoles: [],
    keyCredentials: [],
    oauth2PermissionScopes: [],
    passwordCredentials: [],
    resourceSpecificApplicationPermissions: [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
}

export const seedNames = ["article", "healthy", "empty", "missing-connector"] as const;
export type SeedName = (typeof seedNames)[number];

/** Service principals of a named starting point; "article" is the seed article's broken tenant. */
export function seedServicePrincipals(seed: SeedName): ServicePrincipal[] {
  switch (seed) {
    case "article":
      return [newServicePrincipal(mfaClientAppId, false), newServicePrincipal(mfaConnectorAppId, false)];
    case "healthy":
      return [newServicePrincipal(mfaClientAppId, true), newServicePrincipal(mfaConnectorAppId, true)];
    case "missing-connector":
      return [newServicePrincipal(mfaClientAppId, false)];
    case "empty":
      return [];
  }
}

/** Graph answers a property list; `key` only when one object was asked for with keyCredentials selected. */
export function projectServicePrincipal(
  sp: ServicePrincipal,
  select: string[] | undefined,
  singleObject: boolean,
): Record<string, unknown> {
  const keysVisible = singleObject && select?.includes("keyCredentials") === true;
  const withKeys: Record<string, unknown> = {
    ...sp,
    keyCredentials: sp.keyCredentials.map((key) => ({ ...key, key: keysVisible ? key.key : null })),
  };
  if (!select) return withKeys;
  const unknown = select.find((name) => !(name in sp));
  if (unknown) {
    throw new GraphRuleError(
      400,
      "Request_BadRequest",
      `Could not find a property named '${unknown}' on type 'microsoft.graph.servicePrincipal'.`,
    );
  }
  return Object.fromEntries(select.map((name) => [name, withKeys[name]]));
}

const readOnlyProperties = new Set([
  "id",
  "appId",
  "appOwnerOrganizationId",
  "createdDateTime",
  "deletedDateTime",
  "appDisplayName",
  "servicePrincipalType",
  "signInAudience",
]);
const keyTypes = new Set(["AsymmetricX509Cert", "X509CertAndPassword", "Symmetric"]);
const keyUsages = new Set(["Verify", "Sign", "Encrypt"]);

function invalidKey(property: string, detail = ""): GraphRuleError {
  return new GraphRuleError(
    400,
    "Request_BadRequest",
    `Invalid value specified for property '${property}' of resource 'KeyCredential'.${detail ? ` ${detail}` : ""}`,
  );
}

function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0;
}

/** keyCredentials as PATCH sends them: the whole new collection, each key with its certificate. */
export function validateKeyCredentials(value: unknown): KeyCredential[] {
  if (!Array.isArray(value)) throw invalidKey("keyCredentials", "Expected a collection.");
  const seen = new Set<string>();
  return value.map((entry: Record<string, unknown>) => {
    if (typeof entry !== "object" || entry === null) throw invalidKey("keyCredentials");
    const keyId = typeof entry.keyId === "string" ? entry.keyId : crypto.randomUUID();
    if (seen.has(keyId.toLowerCase())) {
      throw new GraphRuleError(400, "Request_BadRequest", `Duplicate keyId '${keyId}' in keyCredentials.`);
    }
    seen.add(keyId.toLowerCase());
    if (typeof entry.type !== "string" || !keyTypes.has(entry.type)) throw invalidKey("type");
    if (typeof entry.usage !== "string" || !keyUsages.has(entry.usage)) throw invalidKey("usage");
    if (typeof entry.key !== "string" || entry.key === "" || !isBase64(entry.key)) throw invalidKey("key");
    let certificate: crypto.X509Certificate;
    try {
      certificate = new crypto.X509Certificate(Buffer.from(entry.key, "base64"));
    } catch {
      throw invalidKey("key", "The value is not a DER-encoded X.509 certificate.");
    }
    const custom = entry.customKeyIdentifier;
    if (custom !== undefined && custom !== null) {
      if (typeof custom !== "string" || !isBase64(custom) || Buffer.from(custom, "base64").length > 32) {
        throw invalidKey("customKeyIdentifier", "Expected base64 of at most 32 bytes.");
      }
    }
    const certificateEnd = new Date(certificate.validTo).getTime();
    const start =
      typeof entry.startDateTime === "string"
        ? entry.startDateTime
        : new Date(certificate.validFrom).toISOString();
    const end =
      typeof entry.endDateTime === "string" ? entry.endDateTime : new Date(certificateEnd).toISOString();
    if (
      Number.isNaN(Date.parse(start)) ||
      Number.isNaN(Date.parse(end)) ||
      Date.parse(start) >= Date.parse(end)
    ) {
      throw invalidKey("startDateTime", "startDateTime must be a date before endDateTime.");
    }
    if (Date.parse(end) > certificateEnd + 60_000) {
      throw new GraphRuleError(
        400,
        "KeyCredentialsInvalidEndDate",
        "Key credential end date is invalid: it is later than the certificate's expiry.",
      );
    }
    return {
      keyId,
      type: entry.type,
      usage: entry.usage,
      key: entry.key,
      // Graph keeps 90 characters of a key credential's displayName (issue 12).
      displayName: typeof entry.displayName === "string" ? entry.displayName.slice(0, 90) : null,
      customKeyIdentifier: typeof custom === "string" ? custom : null,
      startDateTime: new Date(start).toISOString().replace(/\.000Z$/, "Z"),
      endDateTime: new Date(end).toISOString().replace(/\.000Z$/, "Z"),
    };
  });
}

/** PATCH semantics: named properties replace whole values; collections are never merged. */
export function applyPatch(sp: ServicePrincipal, body: unknown): ServicePrincipal {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GraphRuleError(400, "Request_BadRequest", "Invalid request body: expected a JSON object.");
  }
  const next: ServicePrincipal = { ...sp };
  for (const [name, value] of Object.entries(body)) {
    if (readOnlyProperties.has(name)) {
      throw new GraphRuleError(
        400,
        "Request_BadRequest",
        `Property '${name}' is read-only and cannot be set.`,
      );
    }
    if (!(name in sp)) {
      throw new GraphRuleError(
        400,
        "Request_BadRequest",
        `Property '${name}' does not exist as a declared property or extension property.`,
      );
    }
    if (name === "keyCredentials") {
      next.keyCredentials = validateKeyCredentials(value);
    } else if (name === "accountEnabled") {
      if (typeof value !== "boolean") {
        throw new GraphRuleError(
          400,
          "Request_BadRequest",
          "Invalid value specified for property 'accountEnabled'.",
        );
      }
      next.accountEnabled = value;
    } else {
      next[name] = value;
    }
  }
  return next;
}

/** The one $filter we need: appId eq '<guid>'. */
export function appIdFromFilter(filter: string): string {
  const match = /^\s*appId\s+eq\s+'([0-9a-fA-F-]{36})'\s*$/.exec(filter);
  if (!match) {
    throw new GraphRuleError(
      400,
      "Request_UnsupportedQuery",
      `Unsupported or invalid query filter clause specified for property 'appId' of resource 'ServicePrincipal'.`,
    );
  }
  return match[1].toLowerCase();
}
