// The emulated tenant's users and their registered authentication methods, as Microsoft Graph v1.0 answers
// for them. Pure rules; lab/graph/server.ts routes the calls. Sources (Learn):
// - graph/api/user-get: GET /users/{id | userPrincipalName}; 404 when there is no such user.
// - graph/api/resources/user: "By default, only a limited set of properties are returned" (businessPhones,
//   displayName, givenName, id, jobTitle, mail, mobilePhone, officeLocation, preferredLanguage, surname,
//   userPrincipalName); accountEnabled and onPremises* only through $select.
// - graph/api/authentication-list-methods: GET /users/{id | userPrincipalName}/authentication/methods, a
//   collection of authenticationMethod derived types told apart by @odata.type; no query parameters and no
//   paging documented for it, so the emulator answers one page.
// - graph/errors and every directory object's 404: code Request_ResourceNotFound, "Resource '<id>' does not
//   exist or one of its queried reference-property objects are not present."
import * as crypto from "node:crypto";
import { GraphRuleError } from "./directory";

/** One registered method: the Graph type name without its namespace, and the properties Graph shows. */
export interface AuthenticationMethod {
  type:
    | "passwordAuthenticationMethod"
    | "microsoftAuthenticatorAuthenticationMethod"
    | "phoneAuthenticationMethod"
    | "softwareOathAuthenticationMethod"
    | "fido2AuthenticationMethod"
    | "emailAuthenticationMethod"
    | "temporaryAccessPassAuthenticationMethod"
    | "windowsHelloForBusinessAuthenticationMethod";
  id: string;
  properties?: Record<string, unknown>;
}

export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  onPremisesUserPrincipalName: string | null;
  /** Not a property of the user resource: served only under /authentication/methods. */
  authenticationMethods: AuthenticationMethod[];
}

const defaultProperties = [
  "businessPhones",
  "displayName",
  "givenName",
  "id",
  "jobTitle",
  "mail",
  "mobilePhone",
  "officeLocation",
  "preferredLanguage",
  "surname",
  "userPrincipalName",
];
const selectable = new Set([
  ...defaultProperties,
  "accountEnabled",
  "onPremisesSyncEnabled",
  "onPremisesUserPrincipalName",
]);

export function userNotFound(key: string): GraphRuleError {
  return new GraphRuleError(
    404,
    "Request_ResourceNotFound",
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

/** /users/{key}: the object id, or the userPrincipalName (case-insensitive, as Entra compares UPNs). */
export function findUser(users: DirectoryUser[], key: string): DirectoryUser {
  const wanted = key.toLowerCase();
  const user = users.find((entry) => entry.id === wanted || entry.userPrincipalName.toLowerCase() === wanted);
  if (!user) throw userNotFound(key);
  return user;
}

/** The user as Graph shows it: the default properties, or exactly those $select names. */
export function projectUser(user: DirectoryUser, select: string[] | undefined): Record<string, unknown> {
  const unknown = select?.find((name) => !selectable.has(name));
  if (unknown) {
    throw new GraphRuleError(
      400,
      "Request_BadRequest",
      `Could not find a property named '${unknown}' on type 'microsoft.graph.user'.`,
    );
  }
  const values: Record<string, unknown> = {
    businessPhones: [],
    givenName: null,
    jobTitle: null,
    mail: null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    ...user,
  };
  return Object.fromEntries((select ?? defaultProperties).map((name) => [name, values[name] ?? null]));
}

export function projectMethods(user: DirectoryUser): Record<string, unknown>[] {
  return user.authenticationMethods.map((method) => ({
    "@odata.type": `#microsoft.graph.${method.type}`,
    id: method.id,
    ...method.properties,
  }));
}

/**
 * A software OATH token: an authenticator app registered for its codes (Graph:
 * softwareOathAuthenticationMethod, whose secretKey Graph always returns as null).
 */
export function softwareOathMethod(): AuthenticationMethod {
  return {
    type: "softwareOathAuthenticationMethod",
    id: crypto.randomUUID(),
    properties: { secretKey: null },
  };
}

/**
 * A lab user synced from on-premises with the Microsoft Authenticator registered, as AD DS and Entra
 * Connect leave a person who set up MFA: the on-premises UPN is the cloud UPN. `withCodes` also registers
 * the app's codes (a software OATH token), which makes extension 1.2.2216.1 and later ask for a TOTP.
 */
export function syncedUser(userPrincipalName: string, options: { withCodes?: boolean } = {}): DirectoryUser {
  return {
    id: crypto.randomUUID(),
    userPrincipalName,
    displayName: userPrincipalName.split("@")[0],
    accountEnabled: true,
    onPremisesSyncEnabled: true,
    onPremisesUserPrincipalName: userPrincipalName,
    authenticationMethods: [
      // Every user has a password method (authentication-list-methods' example answer lists it).
      { type: "passwordAuthenticationMethod", id: "28c10230-6103-485e-b985-444c60001490" },
      {
        type: "microsoftAuthenticatorAuthenticationMethod",
        id: crypto.randomUUID(),
        properties: {
          displayName: "Lab phone",
          deviceTag: "SoftwareTokenActivated",
          phoneAppVersion: "6.2401.0119",
        },
      },
      ...(options.withCodes ? [softwareOathMethod()] : []),
    ],
  };
}
