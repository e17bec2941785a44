// The Graph emulator: HTTPS on 127.0.0.1 with a lab-CA certificate, an Entra-like token endpoint per
// tenant, and the Microsoft Graph v1.0 servicePrincipals calls this project makes, answering as Graph
// documents them (OData error bodies, 401/403, $batch of at most 20). Faults are injected per test.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { cloudEndpoints } from "../../config/clouds";
import { issueServerCertificate, LabCa } from "../tls";
import {
  applyPatch,
  appIdFromFilter,
  GraphRuleError,
  newServicePrincipal,
  projectServicePrincipal,
  RegisteredClient,
  SeedName,
  seedServicePrincipals,
  ServicePrincipal,
  TenantState,
} from "./directory";
import { DownloadSite, serveDownload } from "./downloads";
import { FaultPlan, faultError, FaultTarget, GraphFault } from "./faults";
import { FileStore, MemoryStore, TenantStore } from "./store";
import { servicePrincipalToken } from "./servicePrincipalTokens";
import { AccessTokenClaims, signAccessToken, verifyAccessToken, verifyClientAssertion } from "./tokens";
import { DirectoryUser, findUser, projectMethods, projectUser } from "./users";

export const labTenantId = "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40";
export const graphWritePermission = "Application.ReadWrite.All";
const readRoles = new Set(["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"]);
const writeRoles = new Set(["Application.ReadWrite.All", "Directory.ReadWrite.All"]);
// Learn, graph/api/user-get and authentication-list-methods, application permissions (least privileged first).
const userReadRoles = new Set([
  "User.Read.All",
  "User.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
]);
const methodReadRoles = new Set([
  "UserAuthenticationMethod.Read.All",
  "UserAuthenticationMethod.ReadWrite.All",
]);
/** What the doctor's --user needs besides reading applications. */
export const graphUserReadPermissions = ["User.Read.All", "UserAuthenticationMethod.Read.All"];

export interface GraphEmulatorOptions {
  /** Lab CA that signs the emulator's TLS certificate (lab/tls.ts loadOrCreateLabCa). */
  ca: LabCa;
  tenantId?: string;
  /** Starting directory; default "article" (Client and Connector present, disabled, no keys). */
  seed?: SeedName;
  /** Share one tenant between processes. An existing file is used as it is unless `seed` is given. */
  stateFile?: string;
  port?: number;
  /** Lifetime of issued access tokens; default 3600. */
  tokenLifetimeSeconds?: number;
  /** A download host the same server answers for (lab installers). */
  downloads?: DownloadSite;
}

export interface ClientRegistration {
  clientId?: string;
  secret?: string;
  certificatePem?: string;
  /** Graph application permissions in the token; default [Application.ReadWrite.All]. */
  roles?: string[];
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  /** Requests inside a $batch are recorded too, marked here. */
  inBatch: boolean;
  clientId?: string;
  /** keyIds a PATCH sent as the new keyCredentials collection, to check the order of writes. */
  keyIds?: string[];
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface GraphEmulator {
  /** https://127.0.0.1:<port> — also the authority host. */
  url: string;
  authorityHost: string;
  /** Graph root with version: https://127.0.0.1:<port>/v1.0 */
  graphEndpoint: string;
  tenantId: string;
  caFile: string;
  stateFile?: string;
  stop(): Promise<void>;
  /** Replaces the service principals with a named starting point; registered clients stay. */
  seed(seed: SeedName): Promise<void>;
  /** Every service principal, keys included, as stored. */
  servicePrincipals(): ServicePrincipal[];
  servicePrincipal(appId: string): ServicePrincipal | undefined;
  /** Test and lab set-up behind Graph's back: replace the directory's users. */
  changeUsers(change: (users: DirectoryUser[]) => DirectoryUser[]): Promise<void>;
  users(): DirectoryUser[];
  /** Test set-up behind Graph's back (a foreign key, a removed SP): change one SP, or remove it by returning undefined. */
  changeServicePrincipal(
    appId: string,
    change: (sp: ServicePrincipal) => ServicePrincipal | undefined,
  ): Promise<void>;
  registerClient(registration: ClientRegistration): Promise<{ clientId: string }>;
  injectFault(fault: GraphFault): void;
  clearFaults(): void;
  requests(): RequestRecord[];
  clearRequests(): void;
  /** Calls `listener` with each request once it has been answered (tests that act at an exact moment). */
  onAnswered(listener: (record: RequestRecord) => void): void;
  /** An access token as the token endpoint would issue it, for tests that call Graph by hand. */
  issueToken(clientId: string, lifetimeSeconds?: number): string;
}

function odataError(status: number, code: string, message: string): Answer {
  return {
    status,
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ""),
          "request-id": crypto.randomUUID(),
          "client-request-id": crypto.randomUUID(),
        },
      },
    },
  };
}

function insufficientPrivileges(): Answer {
  return odataError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
}

function methodNotAllowed(method: string): Answer {
  return odataError(405, "Request_BadRequest", `The HTTP method '${method}' is not allowed here.`);
}

function entraError(status: number, error: string, description: string): Answer {
  const code = Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0);
  return {
    status,
    body: {
      error,
      error_description: `${description}\r\nTrace ID: ${crypto.randomUUID()}\r\nCorrelation ID: ${crypto.randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: crypto.randomUUID(),
      correlation_id: crypto.randomUUID(),
    },
  };
}

function sentKeyIds(text: string): string[] | undefined {
  try {
    const keys = (JSON.parse(text) as { keyCredentials?: { keyId?: string }[] }).keyCredentials;
    return Array.isArray(keys) ? keys.map((key) => String(key.keyId)) : undefined;
  } catch {
    return undefined;
  }
}

const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

export async function startGraphEmulator(options: GraphEmulatorOptions): Promise<GraphEmulator> {
  const tenantId = options.tenantId ?? labTenantId;
  const initial = (): TenantState => ({
    tenantId,
    tokenSigningKey: crypto.randomBytes(32).toString("hex"),
    servicePrincipals: seedServicePrincipals(options.seed ?? "article"),
    clients: [],
  });
  let store: TenantStore;
  if (options.stateFile) {
    const fileStore = new FileStore(options.stateFile);
    if (options.seed !== undefined || !fs.existsSync(options.stateFile)) fileStore.write(initial());
    store = fileStore;
  } else {
    store = new MemoryStore(initial());
  }
  const faults = new FaultPlan();
  let log: RequestRecord[] = [];
  const answeredListeners: ((record: RequestRecord) => void)[] = [];
  const tokenLifetime = options.tokenLifetimeSeconds ?? 3600;
  // The lab's hosts reach the cloud's login host here (lab/radius/npsExtension.ts LoginRoute), so the
  // certificate names those hosts too, as the real login host's certificate does.
  const loginHosts = Object.values(cloudEndpoints).map((cloud) => new URL(cloud.loginUrl).hostname);
  const tls = issueServerCertificate(options.ca, [
    "127.0.0.1",
    "localhost",
    ...loginHosts,
    ...(options.downloads ? [options.downloads.host] : []),
  ]);
  let origin = "";

  const issueToken = (clientId: string, roles: string[], lifetime: number): string => {
    const now = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      aud: origin,
      iss: `${origin}/${tenantId}/v2.0`,
      tid: tenantId,
      appid: clientId,
      roles,
      iat: now,
      nbf: now - 60,
      exp: now + lifetime,
    };
    return signAccessToken(claims, store.read().tokenSigningKey);
  };

  function openIdConfiguration(tenant: string): Answer {
    const base = `${origin}/${tenant}`;
    return {
      status: 200,
      body: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          "client_secret_post",
          "private_key_jwt",
          "client_secret_basic",
        ],
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        tenant_region_scope: null,
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: new URL(origin).host,
      },
    };
  }

  function tokenEndpoint(tenant: string, form: URLSearchParams): Answer {
    if (tenant.toLowerCase() !== tenantId) {
      return entraError(400, "invalid_tenant", `AADSTS90002: Tenant '${tenant}' not found.`);
    }
    if (form.get("grant_type") !== "client_credentials") {
      return entraError(
        400,
        "unsupported_grant_type",
        "AADSTS70003: The app requested an unsupported grant type.",
      );
    }
    const clientId = form.get("client_id") ?? "";
    const client = store.read().clients.find((entry) => entry.clientId === clientId.toLowerCase());
    if (!client) {
      return entraError(
        400,
        "unauthorized_client",
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`,
      );
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      if (!client.secretHashes.includes(sha256(secret))) {
        return entraError(
          401,
          "invalid_client",
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
    } else if (assertion !== null) {
      const check = verifyClientAssertion(assertion, clientId, client.certificatePems);
      if (!check.ok) return entraError(401, "invalid_client", check.message);
    } else {
      return entraError(
        401,
        "invalid_client",
        "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: tokenLifetime,
        ext_expires_in: tokenLifetime,
        access_token: issueToken(client.clientId, client.roles, tokenLifetime),
      },
    };
  }

  /** v1 endpoint, as ADAL (and so the NPS extension) calls it: a tenant's service principal with a certificate. */
  function firstPartyTokenEndpoint(tenant: string, form: URLSearchParams): Answer {
    if (tenant.toLowerCase() !== tenantId) {
      return entraError(400, "invalid_tenant", `AADSTS90002: Tenant '${tenant}' not found.`);
    }
    const issue = (appId: string) => ({
      accessToken: issueToken(appId, [], tokenLifetime),
      expiresIn: tokenLifetime,
    });
    return (
      servicePrincipalToken(store.read(), form, issue) ??
      entraError(
        400,
        "unauthorized_client",
        `AADSTS700016: Application with identifier '${form.get("client_id") ?? ""}' was not found in the directory '${tenantId}'.`,
      )
    );
  }

  /** One Graph call, shared by plain requests and $batch items. `path` is after /v1.0. */
  async function graphCall(
    method: string,
    pathAndQuery: string,
    body: unknown,
    roles: string[],
  ): Promise<Answer> {
    const url = new URL(pathAndQuery, "https://graph.invalid");
    const segments = url.pathname.split("/").filter((segment) => segment !== "");
    const select = url.searchParams
      .get("$select")
      ?.split(",")
      .map((name) => name.trim());
    const needs = method === "GET" ? readRoles : writeRoles;
    const context = `${origin}/v1.0/$metadata#servicePrincipals`;
    if (segments[0] === "users") return usersCall(method, segments, select, roles);
    if (segments[0] !== "servicePrincipals" || segments.length > 2) {
      return odataError(400, "BadRequest", `Resource not found for the segment '${segments[0] ?? ""}'.`);
    }
    if (!roles.some((role) => needs.has(role))) {
      return insufficientPrivileges();
    }
    try {
      const id = segments[1];
      if (method === "GET" && id === undefined) {
        const filter = url.searchParams.get("$filter");
        const appId = filter === null ? undefined : appIdFromFilter(filter);
        const found = store
          .read()
          .servicePrincipals.filter((sp) => appId === undefined || sp.appId === appId);
        return {
          status: 200,
          body: {
            "@odata.context": context,
            value: found.map((sp) => projectServicePrincipal(sp, select, false)),
          },
        };
      }
      if (method === "POST" && id === undefined) {
        const appId = String((body as { appId?: unknown })?.appId ?? "").toLowerCase();
        const created = await store.update((state) => {
          if (state.servicePrincipals.some((sp) => sp.appId === appId)) {
            throw new GraphRuleError(
              409,
              "Request_MultipleObjectsWithSameKeyValue",
              `The service principal cannot be created, updated, or restored because the service principal name ${appId} is already in use.`,
            );
          }
          const sp = newServicePrincipal(appId, true);
          return { state: { ...state, servicePrincipals: [...state.servicePrincipals, sp] }, result: sp };
        });
        return {
          status: 201,
          headers: { Location: `${origin}/v1.0/servicePrincipals/${created.id}` },
          body: {
            "@odata.context": `${context}/$entity`,
            ...projectServicePrincipal(created, undefined, true),
          },
        };
      }
      const notFound = () =>
        odataError(
          404,
          "Request_ResourceNotFound",
          `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
        );
      if (method === "GET") {
        const sp = store.read().servicePrincipals.find((entry) => entry.id === id);
        if (!sp) return notFound();
        return {
          status: 200,
          body: { "@odata.context": `${context}/$entity`, ...projectServicePrincipal(sp, select, true) },
        };
      }
      if (method === "PATCH") {
        const found = await store.update((state) => {
          const index = state.servicePrincipals.findIndex((entry) => entry.id === id);
          if (index === -1) return { state, result: false };
          const servicePrincipals = [...state.servicePrincipals];
          servicePrincipals[index] = applyPatch(servicePrincipals[index], body);
          return { state: { ...state, servicePrincipals }, result: true };
        });
        return found ? { status: 204 } : notFound();
      }
      return methodNotAllowed(method);
    } catch (error) {
      if (error instanceof GraphRuleError) return odataError(error.status, error.code, error.message);
      throw error;
    }
  }

  /**
   * GET /users/{id | userPrincipalName}[/authentication/methods]: reads only, as the doctor makes them.
   * Listing users (GET /users, Learn: graph/api/user-list) is deliberately not emulated, since nothing of
   * ours lists them: the emulator answers it with 400, where Graph would return a page of users.
   */
  function usersCall(
    method: string,
    segments: string[],
    select: string[] | undefined,
    roles: string[],
  ): Answer {
    const key = segments[1] === undefined ? undefined : decodeURIComponent(segments[1]);
    const methods = segments.length === 4 && segments[2] === "authentication" && segments[3] === "methods";
    if (key === undefined || !(segments.length === 2 || methods)) {
      return odataError(
        400,
        "BadRequest",
        `Resource not found for the segment '${segments.slice(2).join("/")}'.`,
      );
    }
    if (method !== "GET") {
      return methodNotAllowed(method);
    }
    const needs = methods ? methodReadRoles : userReadRoles;
    if (!roles.some((role) => needs.has(role))) {
      return insufficientPrivileges();
    }
    try {
      const user = findUser(store.read().users ?? [], key);
      if (methods) {
        return {
          status: 200,
          body: {
            "@odata.context": `${origin}/v1.0/$metadata#users('${user.id}')/authentication/methods`,
            value: projectMethods(user),
          },
        };
      }
      return {
        status: 200,
        body: { "@odata.context": `${origin}/v1.0/$metadata#users/$entity`, ...projectUser(user, select) },
      };
    } catch (error) {
      if (error instanceof GraphRuleError) return odataError(error.status, error.code, error.message);
      throw error;
    }
  }

  function authenticate(
    header: string | undefined,
    receivedAt: number,
  ): { ok: true; claims: AccessTokenClaims } | { ok: false; answer: Answer } {
    const token = /^Bearer (.+)$/i.exec(header ?? "")?.[1];
    if (!token)
      return { ok: false, answer: odataError(401, "InvalidAuthenticationToken", "Access token is empty.") };
    const check = verifyAccessToken(token, store.read().tokenSigningKey, origin, receivedAt);
    if (!check.ok) return { ok: false, answer: odataError(401, "InvalidAuthenticationToken", check.message) };
    return { ok: true, claims: check.claims };
  }

  async function batch(body: unknown, claims: AccessTokenClaims): Promise<Answer> {
    const requests = (body as { requests?: unknown })?.requests;
    if (!Array.isArray(requests)) return odataError(400, "BadRequest", "Invalid batch payload format.");
    if (requests.length > 20) {
      return odataError(
        400,
        "BadRequest",
        `The number of batch requests exceeds the limit of 20; found ${requests.length}.`,
      );
    }
    const responses = [];
    for (const item of requests as { id: string; method: string; url: string; body?: unknown }[]) {
      const method = String(item.method ?? "GET").toUpperCase();
      const relative = String(item.url ?? "").replace(/^\/?/, "/");
      const fault = faults.take("batchItem", method, relative).find((entry) => entry.kind === "status");
      let answer: Answer;
      if (fault && fault.kind === "status") {
        const { code, message } = faultError(fault.status);
        answer = odataError(fault.status, code, message);
        if (fault.retryAfterSeconds !== undefined)
          answer.headers = { "Retry-After": String(fault.retryAfterSeconds) };
      } else {
        answer = await graphCall(method, relative, item.body, claims.roles);
      }
      log.push({ method, path: relative, status: answer.status, inBatch: true, clientId: claims.appid });
      responses.push({
        id: item.id,
        status: answer.status,
        headers: { "Content-Type": "application/json", ...(answer.headers ?? {}) },
        body: answer.body,
      });
    }
    return { status: 200, body: { responses } };
  }

  async function route(
    method: string,
    rawPath: string,
    headers: Record<string, string | string[] | undefined>,
    text: string,
    receivedAt: number,
  ): Promise<Answer> {
    const url = new URL(rawPath, "https://graph.invalid");
    const openId = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (method === "GET" && openId) return openIdConfiguration(openId[1]);
    const v1Token = /^\/([^/]+)\/oauth2\/token$/.exec(url.pathname);
    if (method === "POST" && v1Token) return firstPartyTokenEndpoint(v1Token[1], new URLSearchParams(text));
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (method === "POST" && token) return tokenEndpoint(token[1], new URLSearchParams(text));
    if (!url.pathname.startsWith("/v1.0/"))
      return odataError(404, "BadRequest", `Invalid version: ${url.pathname}`);
    // The token's lifetime is checked as the request arrives, not after a slow request's processing
    // (Microsoft identity platform: the resource validates the token it receives).
    const auth = authenticate(headers.authorization as string | undefined, receivedAt);
    if (!auth.ok) return auth.answer;
    let body: unknown;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        return odataError(
          400,
          "BadRequest",
          "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        );
      }
    }
    const relative = rawPath.slice("/v1.0".length);
    if (method === "POST" && url.pathname === "/v1.0/$batch") return batch(body, auth.claims);
    return graphCall(method, relative, body, auth.claims.roles);
  }

  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => {
    // Downloads are no Graph or token call: neither faults nor the request log apply to them.
    if (options.downloads && serveDownload(options.downloads, request, response)) return;
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    const receivedAt = Date.now();
    request.on("end", async () => {
      const method = (request.method ?? "GET").toUpperCase();
      const rawPath = request.url ?? "/";
      // Everything outside /v1.0 is the authority (discovery and token endpoint).
      const target: FaultTarget = rawPath.startsWith("/v1.0/") ? "graph" : "token";
      const record: RequestRecord = { method, path: rawPath, status: 0, inBatch: false };
      log.push(record);
      try {
        let answer: Answer | undefined;
        let dropAfterApply = false;
        for (const fault of faults.take(target, method, rawPath)) {
          if (fault.kind === "dropAfterApply") dropAfterApply = true;
          if (fault.kind === "drop") {
            record.status = -1;
            request.socket.destroy();
            return;
          }
          if (fault.kind === "latency") await new Promise((resolve) => setTimeout(resolve, fault.ms));
          if (fault.kind === "status" && !answer) {
            const { code, message } = faultError(fault.status);
            answer = odataError(fault.status, code, message);
            if (fault.retryAfterSeconds !== undefined)
              answer.headers = { "Retry-After": String(fault.retryAfterSeconds) };
          }
        }
        const text = Buffer.concat(chunks).toString("utf8");
        if (method === "PATCH") record.keyIds = sentKeyIds(text);
        answer ??= await route(method, rawPath, request.headers, text, receivedAt);
        record.status = answer.status;
        if (dropAfterApply) {
          record.status = -1;
          request.socket.destroy();
          return;
        }
        const payload = answer.body === undefined ? "" : JSON.stringify(answer.body);
        response.writeHead(answer.status, {
          ...(payload ? { "Content-Type": "application/json; charset=utf-8" } : {}),
          "request-id": crypto.randomUUID(),
          ...(answer.headers ?? {}),
        });
        response.end(payload);
        for (const listener of answeredListeners) listener({ ...record });
      } catch (error) {
        record.status = 500;
        if (!response.headersSent) {
          const failure = odataError(
            500,
            "InternalServerError",
            `Emulator failure: ${(error as Error).message}`,
          );
          response.writeHead(500, { "Content-Type": "application/json" });
          response.end(JSON.stringify(failure.body));
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    authorityHost: origin,
    graphEndpoint: `${origin}/v1.0`,
    tenantId,
    caFile: options.ca.certFile,
    stateFile: options.stateFile,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    seed: (seed) =>
      store.update((state) => ({
        state: { ...state, servicePrincipals: seedServicePrincipals(seed) },
        result: undefined,
      })),
    servicePrincipals: () => store.read().servicePrincipals,
    users: () => store.read().users ?? [],
    changeUsers: (change) =>
      store.update((state) => ({ state: { ...state, users: change(state.users ?? []) }, result: undefined })),
    servicePrincipal: (appId) =>
      store.read().servicePrincipals.find((sp) => sp.appId === appId.toLowerCase()),
    changeServicePrincipal: (appId, change) =>
      store.update((state) => {
        const servicePrincipals = state.servicePrincipals.flatMap((sp) => {
          if (sp.appId !== appId.toLowerCase()) return [sp];
          const changed = change(sp);
          return changed ? [changed] : [];
        });
        return { state: { ...state, servicePrincipals }, result: undefined };
      }),
    registerClient: async (registration) => {
      const client: RegisteredClient = {
        clientId: (registration.clientId ?? crypto.randomUUID()).toLowerCase(),
        secretHashes: registration.secret === undefined ? [] : [sha256(registration.secret)],
        certificatePems: registration.certificatePem === undefined ? [] : [registration.certificatePem],
        roles: registration.roles ?? [graphWritePermission],
      };
      await store.update((state) => ({
        state: {
          ...state,
          clients: [...state.clients.filter((entry) => entry.clientId !== client.clientId), client],
        },
        result: undefined,
      }));
      return { clientId: client.clientId };
    },
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    requests: () => log.map((entry) => ({ ...entry })),
    clearRequests: () => {
      log = [];
    },
    onAnswered: (listener) => answeredListeners.push(listener),
    issueToken: (clientId, lifetimeSeconds = tokenLifetime) => {
      const client = store.read().clients.find((entry) => entry.clientId === clientId.toLowerCase());
      return issueToken(clientId.toLowerCase(), client?.roles ?? [], lifetimeSeconds);
    },
  };
}
