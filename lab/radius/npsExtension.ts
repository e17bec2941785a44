// What the NPS extension does for each RADIUS request before it asks for MFA: a client-credentials token
// request to Entra for the Azure Multi-Factor Auth Client, authenticated with a JWT signed by the private
// key of the certificate IAS loaded at start, for the Connector's resource. docs/lab.md names the sources.
import * as crypto from "node:crypto";
import * as https from "node:https";
import forge from "node-forge";
import { cloudEndpoints, mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import {
  atLeast,
  clientCertIdentifierMinimumVersion,
  totpPromptMinimumVersion,
} from "../../config/extensionVersions";
import { totpMethodTypes } from "../../doctor/facts";
import {
  HostCertificate,
  HostState,
  IasLoadedConfiguration,
  networkServiceCanReadKey,
  RegistryValue,
} from "../windows/hostState";

/** Entra's error body (reference-error-codes: error, error_description, error_codes, ...). */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes?: number[];
}

export type TokenOutcome =
  | { ok: true; accessToken: string; thumbprint: string }
  | { ok: false; reason: string; aadsts?: string; thumbprint?: string };

/** Where the lab's NPS hosts find the cloud's login host: a hosts-file entry pointing it at the emulator. */
export interface LoginRoute {
  /** https://127.0.0.1:<port> of the Graph emulator (which is also the lab's Entra). */
  origin: string;
  /** The lab CA's PEM, which the host trusts as Windows would trust a public root. */
  caPem: string;
}

const text = (value: RegistryValue | undefined) => (typeof value === "string" ? value : "");

/**
 * Values the extension reads. Left out, STS_URL and CLIENT_ID take the public cloud's (Learn,
 * howto-mfa-nps-extension "Microsoft Azure Government or Microsoft Azure operated by 21Vianet": only
 * other clouds need STS_URL set; CLIENT_ID is always the Azure Multi-Factor Auth Client).
 */
export function extensionSettings(settings: Record<string, RegistryValue>) {
  const stsUrl = text(settings.STS_URL) || cloudEndpoints.public.loginUrl;
  return {
    tenantId: text(settings.TENANT_ID),
    clientId: text(settings.CLIENT_ID) || mfaClientAppId,
    stsUrl: stsUrl.endsWith("/") ? stsUrl : `${stsUrl}/`,
    pinnedThumbprint: text(settings.CLIENT_CERT_IDENTIFIER).toUpperCase(),
  };
}

/**
 * The extension version the running IAS uses: the one it loaded at its last start, null when it loaded none
 * (an install or uninstall while IAS runs takes effect at its next start). A record written before the lab
 * kept the version falls back to the installed files' version.
 */
export function loadedExtensionVersion(
  state: HostState,
  loaded: IasLoadedConfiguration,
): string | null | undefined {
  return loaded.extensionVersion !== undefined ? loaded.extensionVersion : state.npsExtensionVersion;
}

/**
 * Whether the extension asks this user for a TOTP instead of Approve/Deny (Learn, how-to-mfa-number-match
 * "NPS extension"; howto-mfa-nps-extension-vpn): from 1.2.2216.1, for a user with a TOTP method, unless
 * OVERRIDE_NUMBER_MATCHING_WITH_OTP was FALSE when IAS started (TRUE or absent: the TOTP prompt).
 */
export function totpPromptApplies(
  version: string | null | undefined,
  loaded: IasLoadedConfiguration,
  userMethods: string[],
): boolean {
  const override = text(loaded.settings.OVERRIDE_NUMBER_MATCHING_WITH_OTP).trim().toUpperCase();
  return (
    atLeast(version, totpPromptMinimumVersion) &&
    override !== "FALSE" &&
    userMethods.some((method) => totpMethodTypes.includes(method))
  );
}

/**
 * The certificate the extension signs with: the one CLIENT_CERT_IDENTIFIER pins (extension 1.2.2893.1+;
 * older versions ignore the value), else the valid `CN=<tenant>, OU=Microsoft NPS Extension` certificate that
 * lasts longest. IAS runs as NETWORK SERVICE, so a key it cannot read is no certificate at all.
 */
export function extensionCertificate(
  loaded: IasLoadedConfiguration,
  now = new Date(),
  version: string | null | undefined = clientCertIdentifierMinimumVersion,
): { certificate: HostCertificate } | { problem: string } {
  const { tenantId } = extensionSettings(loaded.settings);
  const pinnedThumbprint = atLeast(version, clientCertIdentifierMinimumVersion)
    ? extensionSettings(loaded.settings).pinnedThumbprint
    : "";
  const subject = `CN=${tenantId}, OU=Microsoft NPS Extension`;
  const candidates = pinnedThumbprint
    ? loaded.certificates.filter((entry) => entry.thumbprint.toUpperCase() === pinnedThumbprint)
    : loaded.certificates
        .filter((entry) => entry.subject === subject && Date.parse(entry.notAfter) > now.getTime())
        .sort((a, b) => Date.parse(b.notAfter) - Date.parse(a.notAfter));
  const wanted = pinnedThumbprint ? `certificate ${pinnedThumbprint}` : `a valid certificate ${subject}`;
  if (candidates.length === 0) return { problem: `${wanted} is not in LocalMachine\\My` };
  const readable = candidates.find(networkServiceCanReadKey);
  if (!readable) return { problem: `NETWORK SERVICE cannot read the private key of ${wanted}` };
  return { certificate: readable };
}

function privateKeyPemOf(certificate: HostCertificate): { keyPem: string; derBase64: string } {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.decode64(certificate.pfxBase64)));
  // Without a password the PKCS#12 holds a plain key bag; Windows exports a shrouded one: take either.
  const keyBag = [forge.pki.oids.keyBag, forge.pki.oids.pkcs8ShroudedKeyBag]
    .map((bagType) => p12.getBags({ bagType })[bagType]?.[0])
    .find((bag) => bag?.key);
  const certBag = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]?.[0];
  if (!keyBag?.key || !certBag?.cert)
    throw new Error(`lab: certificate ${certificate.thumbprint} has no private key`);
  return {
    keyPem: forge.pki.privateKeyToPem(keyBag.key),
    derBase64: forge.util.encode64(forge.asn1.toDer(forge.pki.certificateToAsn1(certBag.cert)).getBytes()),
  };
}

/**
 * A client assertion as Learn's "Microsoft identity platform certificate credentials" describes it:
 * header alg RS256, typ JWT, x5t = base64url SHA-1 thumbprint; claims aud = the token endpoint,
 * iss = sub = client_id, a fresh jti, nbf/iat now, exp a few minutes later.
 */
export function clientAssertion(
  certificate: HostCertificate,
  clientId: string,
  audience: string,
  now = new Date(),
): string {
  const { keyPem, derBase64 } = privateKeyPemOf(certificate);
  const x5t = crypto.createHash("sha1").update(Buffer.from(derBase64, "base64")).digest("base64url");
  const seconds = Math.floor(now.getTime() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT", x5t })).toString("base64url");
  const payload = Buffer.from(
    JSON.stringify({
      aud: audience,
      iss: clientId,
      sub: clientId,
      jti: crypto.randomUUID(),
      nbf: seconds,
      iat: seconds,
      exp: seconds + 600,
    }),
  ).toString("base64url");
  const signature = crypto.sign("sha256", Buffer.from(`${header}.${payload}`), keyPem).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

function post(url: URL, route: LoginRoute, form: URLSearchParams): Promise<{ status: number; body: string }> {
  const target = new URL(url.pathname + url.search, route.origin);
  const body = form.toString();
  return new Promise((resolve, reject) => {
    const request = https.request(
      target,
      {
        method: "POST",
        ca: route.caPem,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Content-Length": Buffer.byteLength(body),
          // The name the host asked for, as DNS would have sent it to the real login host.
          Host: url.host,
        },
        timeout: 30_000,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer from ${url.origin} within 30 s`)));
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * One token request as the extension makes it (ADAL, v1 endpoint: `<STS_URL><tenant>/oauth2/token`,
 * grant_type client_credentials, `resource` = the Connector). Never throws: a failure is an outcome.
 */
export async function acquireExtensionToken(
  loaded: IasLoadedConfiguration,
  route: LoginRoute,
  version: string | null | undefined,
  now = new Date(),
): Promise<TokenOutcome> {
  const settings = extensionSettings(loaded.settings);
  const chosen = extensionCertificate(loaded, now, version);
  if ("problem" in chosen) return { ok: false, reason: chosen.problem };
  const endpoint = new URL(`${settings.stsUrl}${settings.tenantId}/oauth2/token`);
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: settings.clientId,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: clientAssertion(chosen.certificate, settings.clientId, endpoint.href, now),
    resource: mfaConnectorAppId,
  });
  const thumbprint = chosen.certificate.thumbprint;
  try {
    const answer = await post(endpoint, route, form);
    const parsed = JSON.parse(answer.body) as Partial<EntraErrorBody> & { access_token?: string };
    if (answer.status === 200 && parsed.access_token)
      return { ok: true, accessToken: parsed.access_token, thumbprint };
    const description = (parsed.error_description ?? "").split("\r\n")[0];
    return {
      ok: false,
      reason: description || `HTTP ${answer.status}`,
      aadsts: /AADSTS\d+/.exec(description)?.[0],
      thumbprint,
    };
  } catch (error) {
    return { ok: false, reason: `cannot reach ${endpoint.origin}: ${(error as Error).message}`, thumbprint };
  }
}
