// Entra's token endpoint for a service principal that authenticates with a certificate registered in its
// keyCredentials, as the NPS extension signs in as the Azure Multi-Factor Auth Client (v1 endpoint,
// client_credentials with a JWT client assertion, `resource`). Pure: the tenant in, an answer out.
// Sources: Learn "Microsoft identity platform certificate credentials" (assertion header and claims),
// "Microsoft Entra authentication and authorization error codes" (error body and the AADSTS codes),
// howto-mfa-nps-extension-errors (7000112 Client disabled, 500014 Connector disabled, 700027 key).
// Entra does not document the order of its checks; the lab checks the applications before the
// credential, so a disabled Client is reported even with an unregistered certificate (the article's case).
import * as crypto from "node:crypto";
import type { ServicePrincipal, TenantState } from "./directory";

export interface TokenAnswer {
  status: number;
  /** Entra's body: error, error_description (with Trace ID, Correlation ID, Timestamp), error_codes, ... */
  body: Record<string, unknown>;
}

/** Entra's error body shape (reference-error-codes, "Handling error codes in your application"). */
export function entraErrorBody(error: string, description: string): Record<string, unknown> {
  const code = Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0);
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  const traceId = crypto.randomUUID();
  const correlationId = crypto.randomUUID();
  return {
    error,
    error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

const failure = (status: number, error: string, description: string): TokenAnswer => ({
  status,
  body: entraErrorBody(error, description),
});

function decodePart<T>(part: string | undefined): T | undefined {
  try {
    return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as T;
  } catch {
    return undefined;
  }
}

function findByResource(sps: ServicePrincipal[], resource: string): ServicePrincipal | undefined {
  const wanted = resource.toLowerCase().replace(/\/$/, "");
  return sps.find(
    (sp) =>
      sp.appId === wanted ||
      ((sp.servicePrincipalNames as string[] | undefined) ?? []).some(
        (name) => name.toLowerCase().replace(/\/$/, "") === wanted,
      ),
  );
}

/** Does `clientId` (a service principal of the tenant) get a token for `resource` with this assertion? */
export function servicePrincipalToken(
  tenant: TenantState,
  form: URLSearchParams,
  issue: (appId: string, resource: string) => { accessToken: string; expiresIn: number },
  now = Date.now(),
): TokenAnswer | undefined {
  const clientId = (form.get("client_id") ?? "").toLowerCase();
  const client = tenant.servicePrincipals.find((sp) => sp.appId === clientId);
  if (!client) return undefined;
  const name = `'${client.appId}'(${client.displayName})`;
  if (!client.accountEnabled) {
    return failure(400, "unauthorized_client", `AADSTS7000112: Application ${name} is disabled.`);
  }
  const resource = form.get("resource") ?? "";
  const target = findByResource(tenant.servicePrincipals, resource);
  if (!target) {
    return failure(
      400,
      "invalid_resource",
      `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${tenant.tenantId}.`,
    );
  }
  if (!target.accountEnabled) {
    return failure(
      400,
      "invalid_resource",
      `AADSTS500014: The service principal for resource '${resource}' is disabled. This indicate that a subscription within the tenant has lapsed, or that the administrator for this tenant has disabled the application.`,
    );
  }
  const assertion = form.get("client_assertion");
  if (
    form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
    !assertion
  ) {
    return failure(
      401,
      "invalid_client",
      "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  const [headerPart, payloadPart, signaturePart] = assertion.split(".");
  const header = decodePart<{ alg?: string; x5t?: string }>(headerPart);
  const payload = decodePart<{ iss?: string; sub?: string; exp?: number; nbf?: number }>(payloadPart);
  if (!header || !payload || !signaturePart) {
    return failure(401, "invalid_client", "AADSTS50027: JWT token is invalid or malformed.");
  }
  if (payload.iss?.toLowerCase() !== clientId || payload.sub?.toLowerCase() !== clientId) {
    return failure(
      401,
      "invalid_client",
      "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter.",
    );
  }
  if (typeof payload.exp !== "number" || payload.exp * 1000 <= now) {
    return failure(
      401,
      "invalid_client",
      "AADSTS700024: Client assertion is not within its valid time range.",
    );
  }
  const thumbprint = Buffer.from(header.x5t ?? "", "base64url")
    .toString("hex")
    .toUpperCase();
  const keyNotFound = (reason: string) =>
    failure(
      401,
      "invalid_client",
      `AADSTS700027: Client assertion failed signature validation. (Reason - ${reason}, Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${client.appId}'.)`,
    );
  const key = client.keyCredentials.find(
    (entry) =>
      entry.key &&
      entry.usage === "Verify" &&
      crypto.createHash("sha1").update(Buffer.from(entry.key, "base64")).digest("hex").toUpperCase() ===
        thumbprint,
  );
  if (!key?.key) return keyNotFound("The key was not found.");
  if (Date.parse(key.endDateTime) <= now || Date.parse(key.startDateTime) > now) {
    return keyNotFound("The key used is expired.");
  }
  const publicKey = new crypto.X509Certificate(Buffer.from(key.key, "base64")).publicKey;
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  if (
    header.alg !== "RS256" ||
    !crypto.verify("sha256", signed, publicKey, Buffer.from(signaturePart, "base64url"))
  ) {
    return failure(401, "invalid_client", "AADSTS700027: Client assertion contains an invalid signature.");
  }
  const { accessToken, expiresIn } = issue(client.appId, resource);
  return {
    status: 200,
    body: {
      token_type: "Bearer",
      expires_in: String(expiresIn),
      ext_expires_in: String(expiresIn),
      expires_on: String(Math.floor(now / 1000) + expiresIn),
      not_before: String(Math.floor(now / 1000)),
      resource,
      access_token: accessToken,
    },
  };
}
