// NTLM session security (MS-NLMP 3.4): the keys an NTLMv2 handshake leaves behind, and sealing (RC4
// encryption plus an HMAC-MD5 signature with a sequence number) of every message after it. WinRM over
// plain HTTP wraps each envelope this way (MS-WSMV 2.2.9.1.1); encryptedMessage.ts does the framing.
//
// RC4 is written here rather than taken from npm or OpenSSL: Node 20's OpenSSL 3 keeps RC4 in its legacy
// provider (createCipheriv("rc4") throws ERR_OSSL_EVP_UNSUPPORTED), and the npm packages for it (`arc4`,
// `rc4`) are unmaintained for years. It is twenty lines of the published algorithm, and the tests check
// it, the key derivation and the signature against the MS-NLMP 4.2.4 known-answer vectors.
import * as crypto from "node:crypto";

/** The RC4 stream cipher; one instance is one direction's running key stream (MS-NLMP 3.4, "Handle"). */
export class Rc4 {
  private readonly state = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Buffer) {
    for (let index = 0; index < 256; index++) this.state[index] = index;
    let j = 0;
    for (let index = 0; index < 256; index++) {
      j = (j + this.state[index] + key[index % key.length]) & 0xff;
      [this.state[index], this.state[j]] = [this.state[j], this.state[index]];
    }
  }

  /** Encrypts or decrypts (the same operation), advancing the key stream by data.length bytes. */
  update(data: Buffer): Buffer {
    const output = Buffer.alloc(data.length);
    for (let index = 0; index < data.length; index++) {
      this.i = (this.i + 1) & 0xff;
      this.j = (this.j + this.state[this.i]) & 0xff;
      [this.state[this.i], this.state[this.j]] = [this.state[this.j], this.state[this.i]];
      output[index] = data[index] ^ this.state[(this.state[this.i] + this.state[this.j]) & 0xff];
    }
    return output;
  }
}

/** RC4K (MS-NLMP 6): a one-shot RC4 with a fresh key. */
export function rc4k(key: Buffer, data: Buffer): Buffer {
  return new Rc4(key).update(data);
}

function md5(...parts: Buffer[]): Buffer {
  const hash = crypto.createHash("md5");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function hmacMd5(key: Buffer, ...parts: Buffer[]): Buffer {
  const hmac = crypto.createHmac("md5", key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/** SessionBaseKey of NTLMv2 (MS-NLMP 3.3.2), which is also its KeyExchangeKey (KXKEY, 3.4.5.1). */
export function sessionBaseKey(responseKeyNt: Buffer, ntProofStr: Buffer): Buffer {
  return hmacMd5(responseKeyNt, ntProofStr);
}

type Direction = "client-to-server" | "server-to-client";

/** SIGNKEY (MS-NLMP 3.4.5.2) with extended session security. */
export function signingKey(exportedSessionKey: Buffer, direction: Direction): Buffer {
  return md5(
    exportedSessionKey,
    Buffer.from(`session key to ${direction} signing key magic constant\0`, "latin1"),
  );
}

/** SEALKEY (MS-NLMP 3.4.5.3) with extended session security and 128-bit keys, the only kind we accept. */
export function sealingKey(exportedSessionKey: Buffer, direction: Direction): Buffer {
  return md5(
    exportedSessionKey,
    Buffer.from(`session key to ${direction} sealing key magic constant\0`, "latin1"),
  );
}

export class NtlmSealError extends Error {
  constructor(message: string) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "NtlmSealError";
  }
}

interface DirectionState {
  signingKey: Buffer;
  handle: Rc4;
  sequenceNumber: number;
}

/** Length of an NTLMSSP_MESSAGE_SIGNATURE with extended session security (MS-NLMP 2.2.2.9.2). */
export const signatureLength = 16;

/**
 * One side of a sealed NTLM session (connection-oriented: one RC4 stream and one sequence number per
 * direction for the whole connection, MS-NLMP 3.4). Assumes NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY,
 * 128-bit keys and KEY_EXCH, which both ends of our exchanges insist on.
 */
export class NtlmSealing {
  private readonly outgoing: DirectionState;
  private readonly incoming: DirectionState;

  constructor(exportedSessionKey: Buffer, side: "client" | "server") {
    const state = (direction: Direction): DirectionState => ({
      signingKey: signingKey(exportedSessionKey, direction),
      handle: new Rc4(sealingKey(exportedSessionKey, direction)),
      sequenceNumber: 0,
    });
    const clientToServer = state("client-to-server");
    const serverToClient = state("server-to-client");
    this.outgoing = side === "client" ? clientToServer : serverToClient;
    this.incoming = side === "client" ? serverToClient : clientToServer;
  }

  /** GSS_WrapEx (MS-NLMP 3.4.6): the encrypted message and its 16-byte signature. */
  seal(message: Buffer): { sealed: Buffer; signature: Buffer } {
    const sealed = this.outgoing.handle.update(message);
    const signature = mac(this.outgoing, message);
    this.outgoing.sequenceNumber += 1;
    return { sealed, signature };
  }

  /**
   * GSS_UnwrapEx (MS-NLMP 3.4.7): decrypts and checks the signature, which covers the sequence number,
   * so a tampered, replayed, reordered or foreign message fails. After a failure the key stream is out
   * of step with the peer's: the connection cannot carry another sealed message.
   */
  unseal(sealed: Buffer, signature: Buffer): Buffer {
    const message = this.incoming.handle.update(sealed);
    const expected = mac(this.incoming, message);
    if (signature.length !== signatureLength || !crypto.timingSafeEqual(expected, signature)) {
      throw new NtlmSealError(
        `the message's NTLM signature does not verify (expected sequence number ${this.incoming.sequenceNumber}): ` +
          "it was altered, replayed or sealed with another connection's keys",
      );
    }
    this.incoming.sequenceNumber += 1;
    return message;
  }
}

/** MAC with extended session security and key exchange (MS-NLMP 3.4.4.2); advances the RC4 stream 8 bytes. */
function mac(direction: DirectionState, message: Buffer): Buffer {
  const sequence = Buffer.alloc(4);
  sequence.writeUInt32LE(direction.sequenceNumber >>> 0);
  const checksum = hmacMd5(direction.signingKey, sequence, message).subarray(0, 8);
  const version = Buffer.alloc(4);
  version.writeUInt32LE(1);
  return Buffer.concat([version, direction.handle.update(checksum), sequence]);
}
