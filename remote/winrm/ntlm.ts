// NTLMv2 (MS-NLMP) messages, both sides: the client builds NEGOTIATE and AUTHENTICATE, the lab server
// builds CHALLENGE and verifies the AUTHENTICATE against the password it knows. Pure functions over
// Buffers; the HTTP exchange that carries them lives in transport.ts. MD4 comes from js-md4 because
// OpenSSL 3 (Node 20) no longer offers it; RC4 comes from ntlmSession.ts; the rest is Node's crypto.
import * as crypto from "node:crypto";
import md4 from "js-md4";
import { rc4k, sessionBaseKey } from "./ntlmSession";

// Made per use: a Buffer at module scope is serialized into the Windows providers' __provider as a plain
// object that Buffer methods reject ("must be an instance of Buffer").
function signature(): Buffer {
  return Buffer.from("NTLMSSP\0", "latin1");
}

export const ntlmFlags = {
  unicode: 0x00000001,
  oem: 0x00000002,
  requestTarget: 0x00000004,
  sign: 0x00000010,
  seal: 0x00000020,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  targetTypeDomain: 0x00010000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  version: 0x02000000,
  key128: 0x20000000,
  keyExchange: 0x40000000,
  key56: 0x80000000,
} as const;

/** AV pair IDs (MS-NLMP 2.2.2.1) that we read or write. */
export const avIds = {
  eol: 0,
  nbComputerName: 1,
  nbDomainName: 2,
  dnsComputerName: 3,
  dnsDomainName: 4,
  timestamp: 7,
  channelBindings: 10,
} as const;

// Over HTTPS, TLS protects the messages: no signing, sealing or key exchange is asked for.
const clientFlags =
  (ntlmFlags.unicode |
    ntlmFlags.oem |
    ntlmFlags.requestTarget |
    ntlmFlags.ntlm |
    ntlmFlags.alwaysSign |
    ntlmFlags.extendedSessionSecurity |
    ntlmFlags.key128 |
    ntlmFlags.key56) >>>
  0;
/** Over plain HTTP every message is sealed (MS-WSMV 2.2.9.1.1): sign, seal and a random session key. */
export const sealingFlags = (ntlmFlags.sign | ntlmFlags.seal | ntlmFlags.keyExchange) >>> 0;

/** Whether negotiated flags give the session security our sealing needs (ESS, 128-bit, KEY_EXCH, seal). */
export function canSeal(flags: number): boolean {
  const needed =
    ntlmFlags.seal |
    ntlmFlags.sign |
    ntlmFlags.keyExchange |
    ntlmFlags.extendedSessionSecurity |
    ntlmFlags.key128;
  return (flags & needed) >>> 0 === needed >>> 0;
}

export class NtlmMessageError extends Error {
  constructor(message: string) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "NtlmMessageError";
  }
}

function utf16(text: string): Buffer {
  return Buffer.from(text, "utf16le");
}

function hmacMd5(key: Buffer, ...data: Buffer[]): Buffer {
  const hmac = crypto.createHmac("md5", key);
  for (const part of data) hmac.update(part);
  return hmac.digest();
}

/** NTOWFv2 (MS-NLMP 3.3.2): HMAC-MD5 keyed by MD4(UTF-16LE(password)) over UPPER(user) + domain. */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  const ntHash = Buffer.from(md4.arrayBuffer(utf16(password)));
  return hmacMd5(ntHash, utf16(user.toUpperCase() + domain));
}

/** NTProofStr: HMAC-MD5 keyed by NTOWFv2 over the server challenge and the client's blob. */
export function ntProofStr(responseKey: Buffer, serverChallenge: Buffer, blob: Buffer): Buffer {
  return hmacMd5(responseKey, serverChallenge, blob);
}

function readMessageType(message: Buffer, expected: number): void {
  if (message.length < 12 || !message.subarray(0, 8).equals(signature())) {
    throw new NtlmMessageError("expected an NTLM message (NTLMSSP signature), found other data");
  }
  const type = message.readUInt32LE(8);
  if (type !== expected) {
    throw new NtlmMessageError(`expected NTLM message type ${expected}, found type ${type}`);
  }
}

/** Reads a (length, maxLength, offset) security buffer field. */
function readField(message: Buffer, at: number): Buffer {
  if (at + 8 > message.length) throw new NtlmMessageError("NTLM message truncated in its header");
  const length = message.readUInt16LE(at);
  const offset = message.readUInt32LE(at + 4);
  if (offset + length > message.length) throw new NtlmMessageError("NTLM message field points past its end");
  return message.subarray(offset, offset + length);
}

/** Lays out fixed header plus payload fields, filling in each field's (length, offset). */
function assemble(header: Buffer, fieldOffsets: number[], payloads: Buffer[]): Buffer {
  let offset = header.length;
  fieldOffsets.forEach((at, index) => {
    const payload = payloads[index];
    header.writeUInt16LE(payload.length, at);
    header.writeUInt16LE(payload.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += payload.length;
  });
  return Buffer.concat([header, ...payloads]);
}

export function parseAvPairs(targetInfo: Buffer): Map<number, Buffer> {
  const pairs = new Map<number, Buffer>();
  let at = 0;
  while (at + 4 <= targetInfo.length) {
    const id = targetInfo.readUInt16LE(at);
    const length = targetInfo.readUInt16LE(at + 2);
    if (id === avIds.eol) break;
    pairs.set(id, targetInfo.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return pairs;
}

export function encodeAvPairs(pairs: Map<number, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of pairs) {
    if (id === avIds.eol) continue;
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** Windows FILETIME: 100 ns ticks since 1601-01-01, little-endian. */
export function fileTime(date: Date): Buffer {
  const ticks = (BigInt(date.getTime()) + 11644473600000n) * 10000n;
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64LE(ticks);
  return buffer;
}

// ---- client side ----

export function negotiateMessage(options: { seal?: boolean } = {}): Buffer {
  const message = Buffer.alloc(32);
  signature().copy(message, 0);
  message.writeUInt32LE(1, 8);
  message.writeUInt32LE((clientFlags | (options.seal ? sealingFlags : 0)) >>> 0, 12);
  // Domain and workstation fields stay empty (length 0, offset 32).
  message.writeUInt32LE(32, 20);
  message.writeUInt32LE(32, 28);
  return message;
}

export interface NtlmChallenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
}

export function parseChallengeMessage(message: Buffer): NtlmChallenge {
  readMessageType(message, 2);
  if (message.length < 48) throw new NtlmMessageError("NTLM CHALLENGE message is too short");
  const flags = message.readUInt32LE(20);
  return {
    flags,
    serverChallenge: Buffer.from(message.subarray(24, 32)),
    targetInfo: flags & ntlmFlags.targetInfo ? Buffer.from(readField(message, 40)) : Buffer.alloc(0),
  };
}

/**
 * Channel binding hash (RFC 5929 tls-server-end-point, MS-NLMP MsvAvChannelBindings): MD5 of the
 * gss_channel_bindings_struct whose application data names the hash of the server certificate.
 * Windows checks it when the listener's CbtHardeningLevel is Strict.
 */
export function channelBindingHash(serverCertificateDer: Buffer): Buffer {
  const certificateHash = crypto
    .createHash(endPointHashOf(serverCertificateDer))
    .update(serverCertificateDer)
    .digest();
  const applicationData = Buffer.concat([Buffer.from("tls-server-end-point:", "latin1"), certificateHash]);
  const header = Buffer.alloc(20);
  header.writeUInt32LE(applicationData.length, 16);
  return crypto
    .createHash("md5")
    .update(Buffer.concat([header, applicationData]))
    .digest();
}

// RFC 5929 4.1: the certificate's own signature hash, except MD5 and SHA-1 which become SHA-256.
function endPointHashOf(der: Buffer): string {
  const oid = signatureAlgorithmOid(der);
  if (oid === "2a864886f70d01010c" || oid === "2a8648ce3d040303") return "sha384";
  if (oid === "2a864886f70d01010d" || oid === "2a8648ce3d040304") return "sha512";
  return "sha256";
}

/** Hex of the outer signatureAlgorithm OID of a DER certificate, or "" if the DER is unexpected. */
function signatureAlgorithmOid(der: Buffer): string {
  const header = (at: number): { body: number; end: number } => {
    let length = der[at + 1];
    let body = at + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let index = 0; index < count; index++) length = length * 256 + der[body + index];
      body += count;
    }
    return { body, end: body + length };
  };
  try {
    const certificate = header(0);
    const tbs = header(certificate.body);
    const algorithm = header(tbs.end);
    const oid = header(algorithm.body);
    return der.subarray(oid.body, oid.end).toString("hex");
  } catch {
    return "";
  }
}

export interface AuthenticateOptions {
  user: string;
  domain: string;
  password: string;
  challenge: NtlmChallenge;
  /** Channel binding hash of the TLS connection, when the client knows the server certificate. */
  channelBindings?: Buffer;
  /** Ask for sealing (plain HTTP): the server must grant sign, seal and key exchange. */
  seal?: boolean;
  /** Fixed only by tests (known-answer vectors); random otherwise. */
  clientChallenge?: Buffer;
  timestamp?: Buffer;
  exportedSessionKey?: Buffer;
}

export interface NtlmAuthentication {
  message: Buffer;
  /** The key sealing derives from (MS-NLMP 3.1.5.1.2), when sealing was negotiated. */
  exportedSessionKey?: Buffer;
}

/** The client's NTLMv2 blob (MS-NLMP 3.3.2 "temp") with the server's AV pairs plus our channel bindings. */
export function clientBlob(targetInfo: Buffer, timestamp: Buffer, clientChallenge: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
    timestamp,
    clientChallenge,
    Buffer.alloc(4),
    targetInfo,
    Buffer.alloc(4),
  ]);
}

export function authenticateMessage(options: AuthenticateOptions): Buffer {
  return authenticate(options).message;
}

/** The AUTHENTICATE message and, when sealing was asked for and granted, the session key it carries. */
export function authenticate(options: AuthenticateOptions): NtlmAuthentication {
  const { challenge } = options;
  const wanted = (clientFlags | (options.seal ? sealingFlags : 0)) >>> 0;
  if (options.seal && !canSeal(challenge.flags & wanted)) {
    throw new NtlmMessageError(
      "expected the server to grant NTLM signing, sealing, 128-bit keys and key exchange for message encryption, " +
        `found flags 0x${(challenge.flags >>> 0).toString(16)}`,
    );
  }
  const serverPairs = parseAvPairs(challenge.targetInfo);
  const timestamp = options.timestamp ?? serverPairs.get(avIds.timestamp) ?? fileTime(new Date());
  const clientChallenge = options.clientChallenge ?? crypto.randomBytes(8);
  const pairs = new Map(serverPairs);
  if (options.channelBindings) pairs.set(avIds.channelBindings, options.channelBindings);
  const blob = clientBlob(encodeAvPairs(pairs), timestamp, clientChallenge);
  const key = ntowfv2(options.password, options.user, options.domain);
  const proof = ntProofStr(key, challenge.serverChallenge, blob);
  const ntResponse = Buffer.concat([proof, blob]);
  // With a server timestamp the LMv2 response must be zeros (MS-NLMP 3.1.5.1.2).
  const lmResponse = serverPairs.has(avIds.timestamp)
    ? Buffer.alloc(24)
    : Buffer.concat([hmacMd5(key, challenge.serverChallenge, clientChallenge), clientChallenge]);
  const flags = (challenge.flags & wanted) | ntlmFlags.unicode | ntlmFlags.ntlm;
  // KEY_EXCH: a random ExportedSessionKey travels RC4-encrypted under the KeyExchangeKey (MS-NLMP 3.1.5.1.2).
  const exportedSessionKey = options.seal
    ? (options.exportedSessionKey ?? crypto.randomBytes(16))
    : undefined;
  const encryptedSessionKey = exportedSessionKey
    ? rc4k(sessionBaseKey(key, proof), exportedSessionKey)
    : Buffer.alloc(0);
  const header = Buffer.alloc(64);
  signature().copy(header, 0);
  header.writeUInt32LE(3, 8);
  header.writeUInt32LE(flags >>> 0, 60);
  const message = assemble(
    header,
    [12, 20, 28, 36, 44, 52],
    [lmResponse, ntResponse, utf16(options.domain), utf16(options.user), utf16(""), encryptedSessionKey],
  );
  return { message, exportedSessionKey };
}

// ---- server side (the lab) ----

export function parseNegotiateMessage(message: Buffer): { flags: number } {
  readMessageType(message, 1);
  if (message.length < 16) throw new NtlmMessageError("NTLM NEGOTIATE message is too short");
  return { flags: message.readUInt32LE(12) };
}

export interface ChallengeOptions {
  serverChallenge: Buffer;
  negotiateFlags: number;
  /** NetBIOS domain (target) name and computer name the server announces. */
  domain: string;
  computer: string;
  timestamp?: Date;
}

export function challengeMessage(options: ChallengeOptions): Buffer {
  const pairs = new Map<number, Buffer>([
    [avIds.nbDomainName, utf16(options.domain)],
    [avIds.nbComputerName, utf16(options.computer)],
    [avIds.dnsDomainName, utf16(options.domain.toLowerCase())],
    [avIds.dnsComputerName, utf16(options.computer.toLowerCase())],
    [avIds.timestamp, fileTime(options.timestamp ?? new Date())],
  ]);
  // Windows grants signing, sealing and key exchange when asked (MS-NLMP 3.2.5.1.1).
  const flags =
    (options.negotiateFlags & (clientFlags | sealingFlags)) |
    ntlmFlags.unicode |
    ntlmFlags.ntlm |
    ntlmFlags.targetTypeDomain |
    ntlmFlags.targetInfo;
  const header = Buffer.alloc(48);
  signature().copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(flags >>> 0, 20);
  options.serverChallenge.copy(header, 24);
  return assemble(header, [12, 40], [utf16(options.domain), encodeAvPairs(pairs)]);
}

export interface NtlmAuthenticate {
  flags: number;
  user: string;
  domain: string;
  workstation: string;
  lmResponse: Buffer;
  ntResponse: Buffer;
  encryptedRandomSessionKey: Buffer;
}

export function parseAuthenticateMessage(message: Buffer): NtlmAuthenticate {
  readMessageType(message, 3);
  if (message.length < 64) throw new NtlmMessageError("NTLM AUTHENTICATE message is too short");
  const flags = message.readUInt32LE(60);
  const text = (field: Buffer) => field.toString(flags & ntlmFlags.unicode ? "utf16le" : "latin1");
  return {
    flags,
    lmResponse: readField(message, 12),
    ntResponse: readField(message, 20),
    domain: text(readField(message, 28)),
    user: text(readField(message, 36)),
    workstation: text(readField(message, 44)),
    encryptedRandomSessionKey: readField(message, 52),
  };
}

export interface Ntlmv2Verification {
  valid: boolean;
  /** MsvAvChannelBindings from the client's blob, when it sent one. */
  channelBindings?: Buffer;
  /** The session's key (MS-NLMP 3.2.5.1.2): the client's random key when KEY_EXCH, else SessionBaseKey. */
  exportedSessionKey?: Buffer;
}

/** Checks an AUTHENTICATE's NTLMv2 response against the password the server knows. */
export function verifyNtlmv2(
  authenticate: NtlmAuthenticate,
  serverChallenge: Buffer,
  password: string,
): Ntlmv2Verification {
  const response = authenticate.ntResponse;
  // 16-byte proof + a blob of at least 28 bytes; shorter is NTLMv1, which we refuse as Windows should.
  if (response.length < 16 + 28) return { valid: false };
  const blob = response.subarray(16);
  const key = ntowfv2(password, authenticate.user, authenticate.domain);
  const expected = ntProofStr(key, serverChallenge, blob);
  const valid = crypto.timingSafeEqual(expected, response.subarray(0, 16));
  const pairs = parseAvPairs(blob.subarray(28));
  const baseKey = sessionBaseKey(key, expected);
  const exportedSessionKey =
    authenticate.flags & ntlmFlags.keyExchange && authenticate.encryptedRandomSessionKey.length === 16
      ? rc4k(baseKey, authenticate.encryptedRandomSessionKey)
      : baseKey;
  return {
    valid,
    channelBindings: pairs.get(avIds.channelBindings),
    exportedSessionKey: valid ? exportedSessionKey : undefined,
  };
}
