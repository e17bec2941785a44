// MS-CHAPv2 as RRAS carries it to NPS in RADIUS: RFC 2759 §8 (the NT-Response and the authenticator
// response) and RFC 2548 §2.3 (the Microsoft vendor-specific attributes). The lab's VPN dial computes the
// client's side, the lab's NPS checks it against the user's password, as NPS checks it against AD DS.
// DES comes from node-forge, since Node's OpenSSL 3 keeps single DES in its legacy provider; MD4 from js-md4,
// as for NTLM (remote/winrm/ntlm.ts).
import * as crypto from "node:crypto";
import md4 from "js-md4";
import forge from "node-forge";

/** RFC 2548: Microsoft's vendor id and the vendor types of MS-CHAPv2. */
export const microsoftVendorId = 311;
export const microsoftAttributes = {
  msChapError: 2,
  msChapChallenge: 11,
  msChap2Response: 25,
  msChap2Success: 26,
} as const;

/** RFC 2759 §8.3: MD4 of the password in UTF-16LE. */
export function ntPasswordHash(password: string): Buffer {
  return Buffer.from(md4.arrayBuffer(Buffer.from(password, "utf16le")));
}

/** RFC 2759 §8.2: the first 8 bytes of SHA-1(PeerChallenge, AuthenticatorChallenge, UserName). */
export function challengeHash(
  peerChallenge: Buffer,
  authenticatorChallenge: Buffer,
  userName: string,
): Buffer {
  return crypto
    .createHash("sha1")
    .update(peerChallenge)
    .update(authenticatorChallenge)
    .update(Buffer.from(userName, "utf8"))
    .digest()
    .subarray(0, 8);
}

/** RFC 2759 §8.6: a 7-byte key spread over 8 bytes, one parity bit (ignored by DES) per byte. */
function desKey(seven: Buffer): Buffer {
  const bits = BigInt(`0x${seven.toString("hex")}`);
  const key = Buffer.alloc(8);
  for (let index = 0; index < 8; index++) key[index] = Number((bits >> BigInt(49 - 7 * index)) & 0x7fn) << 1;
  return key;
}

function desEncrypt(block: Buffer, seven: Buffer): Buffer {
  const cipher = forge.cipher.createCipher(
    "DES-ECB",
    forge.util.createBuffer(desKey(seven).toString("binary")),
  );
  cipher.start();
  cipher.update(forge.util.createBuffer(block.toString("binary")));
  cipher.finish();
  // forge pads ECB to a second block; the first 8 bytes are the DES of the block.
  return Buffer.from(cipher.output.getBytes(), "binary").subarray(0, 8);
}

/** RFC 2759 §8.5: the challenge hash DES-encrypted with each 7 bytes of the zero-padded password hash. */
function challengeResponse(hash: Buffer, passwordHash: Buffer): Buffer {
  const padded = Buffer.concat([passwordHash, Buffer.alloc(5)]);
  return Buffer.concat([0, 7, 14].map((offset) => desEncrypt(hash, padded.subarray(offset, offset + 7))));
}

/** RFC 2759 §8.1: the 24-byte NT-Response the client sends. */
export function generateNtResponse(
  authenticatorChallenge: Buffer,
  peerChallenge: Buffer,
  userName: string,
  password: string,
): Buffer {
  return challengeResponse(
    challengeHash(peerChallenge, authenticatorChallenge, userName),
    ntPasswordHash(password),
  );
}

const magic1 = Buffer.from("Magic server to client signing constant", "ascii");
const magic2 = Buffer.from("Pad to make it do more than one iteration", "ascii");

/** RFC 2759 §8.7: "S=" and 40 hex digits, proof to the client that the server knows the password. */
export function authenticatorResponse(
  password: string,
  ntResponse: Buffer,
  peerChallenge: Buffer,
  authenticatorChallenge: Buffer,
  userName: string,
): string {
  const passwordHashHash = Buffer.from(md4.arrayBuffer(ntPasswordHash(password)));
  const digest = crypto
    .createHash("sha1")
    .update(passwordHashHash)
    .update(ntResponse)
    .update(magic1)
    .digest();
  const proof = crypto
    .createHash("sha1")
    .update(digest)
    .update(challengeHash(peerChallenge, authenticatorChallenge, userName))
    .update(magic2)
    .digest();
  return `S=${proof.toString("hex").toUpperCase()}`;
}

/** RFC 2548 §2.3.2 MS-CHAP2-Response: Ident, Flags, Peer-Challenge (16), Reserved (8), Response (24). */
export interface MsChap2Response {
  ident: number;
  peerChallenge: Buffer;
  ntResponse: Buffer;
}

export function encodeMsChap2Response(response: MsChap2Response): Buffer {
  return Buffer.concat([
    Buffer.from([response.ident, 0]),
    response.peerChallenge,
    Buffer.alloc(8),
    response.ntResponse,
  ]);
}

export function decodeMsChap2Response(value: Buffer): MsChap2Response | undefined {
  if (value.length !== 50) return undefined;
  return { ident: value[0], peerChallenge: value.subarray(2, 18), ntResponse: value.subarray(26, 50) };
}

/** Whether the client's NT-Response proves it knows `password` (NPS checks it against AD DS). */
export function ntResponseMatches(
  response: MsChap2Response,
  authenticatorChallenge: Buffer,
  userName: string,
  password: string,
): boolean {
  const expected = generateNtResponse(authenticatorChallenge, response.peerChallenge, userName, password);
  return crypto.timingSafeEqual(expected, response.ntResponse);
}
