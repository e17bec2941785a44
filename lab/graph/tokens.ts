// Access tokens the emulator issues (HS256 JWTs carrying tenant, client and app roles) and the
// verification of certificate client assertions (RS256/PS256 JWTs signed by a registered certificate).
import * as crypto from "node:crypto";

const base64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  roles: string[];
  iat: number;
  nbf: number;
  exp: number;
}

export function signAccessToken(claims: AccessTokenClaims, signingKey: string): string {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = crypto
    .createHmac("sha256", signingKey)
    .update(`${header}.${payload}`)
    .digest("base64url");
  return `${header}.${payload}.${signature}`;
}

export type TokenCheck = { ok: true; claims: AccessTokenClaims } | { ok: false; message: string };

export function verifyAccessToken(
  token: string,
  signingKey: string,
  audience: string,
  now = Date.now(),
): TokenCheck {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, message: "IDX14100: JWT is not well formed." };
  const expected = crypto.createHmac("sha256", signingKey).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], "base64url");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return { ok: false, message: "Access token validation failure. Invalid signature." };
  }
  const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as AccessTokenClaims;
  if (claims.aud !== audience)
    return { ok: false, message: "Access token validation failure. Invalid audience." };
  if (claims.exp * 1000 <= now)
    return { ok: false, message: "Lifetime validation failed, the token is expired." };
  return { ok: true, claims };
}

/** True when `assertion` is a JWT for `clientId`, unexpired, signed by one of the certificates. */
export function verifyClientAssertion(
  assertion: string,
  clientId: string,
  certificatePems: string[],
  now = Date.now(),
): { ok: true } | { ok: false; message: string } {
  const parts = assertion.split(".");
  if (parts.length !== 3) return { ok: false, message: "AADSTS50027: JWT token is invalid or malformed." };
  let header: { alg?: string };
  let payload: { sub?: string; iss?: string; exp?: number };
  try {
    header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return { ok: false, message: "AADSTS50027: JWT token is invalid or malformed." };
  }
  if (payload.sub !== clientId || payload.iss !== clientId) {
    return {
      ok: false,
      message: "AADSTS700021: Client assertion application identifier doesn't match 'client_id'.",
    };
  }
  if (typeof payload.exp !== "number" || payload.exp * 1000 <= now) {
    return { ok: false, message: "AADSTS700024: Client assertion is not within its valid time range." };
  }
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], "base64url");
  const valid = certificatePems.some((pem) => {
    const key = new crypto.X509Certificate(pem).publicKey;
    if (header.alg === "RS256") return crypto.verify("sha256", signed, key, signature);
    if (header.alg === "PS256") {
      return crypto.verify(
        "sha256",
        signed,
        {
          key,
          padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
          saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST,
        },
        signature,
      );
    }
    return false;
  });
  return valid
    ? { ok: true }
    : {
        ok: false,
        message: `AADSTS700027: Client assertion failed signature validation. (Reason - The key was not found., Thumbprint of key used by client: 'unknown')`,
      };
}
