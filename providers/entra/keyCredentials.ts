// Pure rules for one NPS server's certificate on the MFA Client service principal's keyCredentials.
// PATCH replaces the whole collection, so every write is "what is there now, plus ours" or, once the host
// runs its new certificate, "what is there now, minus only our host's superseded keys": other NPS servers'
// keys and foreign keys always pass through untouched.
import * as crypto from "node:crypto";
import type { NpsCertificateCredentialInputs, NpsCertificatePublicPart } from "../resourceTypes";

/** A key credential as Graph returns it on a single-object GET with $select=keyCredentials. */
export interface GraphKeyCredential {
  keyId: string;
  type: string;
  usage: string;
  key: string | null;
  displayName: string | null;
  customKeyIdentifier: string | null;
  startDateTime: string;
  endDateTime: string;
}

export type KeyStatus = "registered" | "missing" | "expired" | "renewal-due";

/** Graph keeps at most this many characters of a key credential's displayName and cuts the rest. */
export const keyDisplayNameMaxLength = 90;

/**
 * How our keys are named: the NPS host is the only thing telling them apart (the subject is the tenant).
 * Kept within Graph's 90 characters, or Graph would cut it and ownedByHost would never match our own key
 * again (old keys would pile up): a long host name ends in a hash of the whole name instead.
 */
export function npsKeyDisplayName(npsHostname: string): string {
  const prefix = "npsmfa NPS extension certificate: ";
  const host = npsHostname.toLowerCase();
  if (prefix.length + host.length <= keyDisplayNameMaxLength) return `${prefix}${host}`;
  const hash = crypto.createHash("sha256").update(host).digest("hex").slice(0, 12);
  return `${prefix}${host.slice(0, keyDisplayNameMaxLength - prefix.length - hash.length - 1)}~${hash}`;
}

export function thumbprintOfDer(derBase64: string): string {
  return crypto.createHash("sha1").update(Buffer.from(derBase64, "base64")).digest("hex").toUpperCase();
}

/** The certificate's thumbprint: from the key itself when present, else customKeyIdentifier (bytes or hex text). */
export function thumbprintOfKey(key: GraphKeyCredential): string | undefined {
  if (key.key) return thumbprintOfDer(key.key);
  const custom = key.customKeyIdentifier;
  if (!custom) return undefined;
  if (/^[0-9a-f]{40}$/i.test(custom)) return custom.toUpperCase();
  return Buffer.from(custom, "base64").toString("hex").toUpperCase();
}

export function ownedByHost(key: GraphKeyCredential, npsHostname: string): boolean {
  return (key.displayName ?? "").toLowerCase() === npsKeyDisplayName(npsHostname).toLowerCase();
}

export function desiredKeyCredential(
  npsHostname: string,
  certificate: NpsCertificatePublicPart,
): GraphKeyCredential {
  return {
    keyId: crypto.randomUUID(),
    type: "AsymmetricX509Cert",
    usage: "Verify",
    key: certificate.derBase64,
    displayName: npsKeyDisplayName(npsHostname),
    customKeyIdentifier: Buffer.from(certificate.thumbprint, "hex").toString("base64"),
    startDateTime: new Date(certificate.notBefore).toISOString(),
    endDateTime: new Date(certificate.notAfter).toISOString(),
  };
}

/**
 * The collection to write next, from what is there now: ours added when missing, nothing removed. The
 * host's older key stays, because IAS keeps signing with the certificate it loaded at start until it
 * restarts; `withoutSupersededKeys` removes it once the restart with the new certificate proved healthy.
 */
export function nextKeyCredentials(
  live: GraphKeyCredential[],
  npsHostname: string,
  certificate: NpsCertificatePublicPart,
): GraphKeyCredential[] {
  const thumbprint = certificate.thumbprint.toUpperCase();
  const ours = live.some((key) => thumbprintOfKey(key) === thumbprint);
  return ours ? live : [...live, desiredKeyCredential(npsHostname, certificate)];
}

/** The host's keys other than those of the certificates to keep: what a finished rotation removes. */
export function supersededKeys(
  live: GraphKeyCredential[],
  npsHostname: string,
  keepThumbprints: string[],
): GraphKeyCredential[] {
  const keep = new Set(keepThumbprints.filter((entry) => entry !== "").map((entry) => entry.toUpperCase()));
  return live.filter((key) => ownedByHost(key, npsHostname) && !keep.has(thumbprintOfKey(key) ?? ""));
}

/** Every key but the host's superseded ones: other servers' and foreign keys pass through untouched. */
export function withoutSupersededKeys(
  live: GraphKeyCredential[],
  npsHostname: string,
  keepThumbprints: string[],
): GraphKeyCredential[] {
  const superseded = new Set(supersededKeys(live, npsHostname, keepThumbprints).map((key) => key.keyId));
  return live.filter((key) => !superseded.has(key.keyId));
}

export function sameKeyIds(a: GraphKeyCredential[], b: GraphKeyCredential[]): boolean {
  const ids = (keys: GraphKeyCredential[]) =>
    keys
      .map((key) => key.keyId.toLowerCase())
      .sort()
      .join(",");
  return ids(a) === ids(b);
}

/** What refresh reports for this host's certificate, judged on the live keys. */
export function keyStatus(
  live: GraphKeyCredential[],
  inputs: Pick<NpsCertificateCredentialInputs, "certificate" | "renewalDays">,
  now: Date,
): KeyStatus {
  const thumbprint = inputs.certificate.thumbprint.toUpperCase();
  const key = live.find((entry) => thumbprintOfKey(entry) === thumbprint);
  if (!key) return "missing";
  const end = Date.parse(key.endDateTime);
  if (end <= now.getTime()) return "expired";
  if (end - now.getTime() <= inputs.renewalDays * 24 * 60 * 60 * 1000) return "renewal-due";
  return "registered";
}

/** Only the fields PATCH accepts, in Graph's names; the key material goes back exactly as read. */
export function keyCredentialForPatch(key: GraphKeyCredential): GraphKeyCredential {
  const { keyId, type, usage, displayName, customKeyIdentifier, startDateTime, endDateTime } = key;
  return { keyId, type, usage, key: key.key, displayName, customKeyIdentifier, startDateTime, endDateTime };
}
