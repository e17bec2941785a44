// The body of an encrypted WinRM message over plain HTTP (MS-WSMV 2.2.9.1, "Encrypted Message Types";
// 2.2.9.1.1 for SPNEGO/NTLM): a two-part MIME body, the first part naming the protocol and the
// plaintext's length, the second holding a 4-byte little-endian signature length, the NTLM signature
// and the sealed envelope, then the closing boundary. Pure functions over Buffers, used by the client
// (transport.ts) and the lab's HTTP listener alike.
import { NtlmSealError, signatureLength, type NtlmSealing } from "./ntlmSession";

export const encryptedProtocol = "application/HTTP-SPNEGO-session-encrypted";
/** The Content-Type of an encrypted request or response (MS-WSMV 2.2.9.1). */
export const encryptedContentType = `multipart/encrypted;protocol="${encryptedProtocol}";boundary="Encrypted Boundary"`;
const boundary = "--Encrypted Boundary";
const octetStreamHeader = "\tContent-Type: application/octet-stream\r\n";

export class EncryptedMessageError extends Error {
  constructor(message: string) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "EncryptedMessageError";
  }
}

/** Whether a Content-Type header announces an NTLM/SPNEGO-encrypted body. */
export function isEncryptedContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return (
    /^\s*multipart\/encrypted\s*;/i.test(contentType) &&
    contentType.toLowerCase().includes(`protocol="${encryptedProtocol.toLowerCase()}"`)
  );
}

/** Seals a SOAP envelope and frames it as MS-WSMV 2.2.9.1.1 describes. */
export function encryptEnvelope(envelope: Buffer, sealing: NtlmSealing): Buffer {
  const { sealed, signature } = sealing.seal(envelope);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(signature.length);
  return Buffer.concat([
    Buffer.from(
      `${boundary}\r\n` +
        `\tContent-Type: ${encryptedProtocol}\r\n` +
        `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${envelope.length}\r\n` +
        `${boundary}\r\n` +
        octetStreamHeader,
      "latin1",
    ),
    length,
    signature,
    sealed,
    Buffer.from(`${boundary}--\r\n`, "latin1"),
  ]);
}

/**
 * Reads the frame, unseals the envelope and checks its signature and the announced length. The sealed
 * part is located by that length, not by searching for the boundary, which ciphertext may contain.
 */
export function decryptEnvelope(body: Buffer, sealing: NtlmSealing): Buffer {
  const opening = `${boundary}\r\n`;
  if (!body.subarray(0, opening.length).equals(Buffer.from(opening, "latin1"))) {
    throw new EncryptedMessageError(`expected the body to start with "${boundary}", found other data`);
  }
  const headerEnd = body.indexOf(`${boundary}\r\n${octetStreamHeader}`, opening.length, "latin1");
  if (headerEnd < 0) {
    throw new EncryptedMessageError(
      "expected an application/octet-stream part after the header part, found none",
    );
  }
  const header = body.subarray(opening.length, headerEnd).toString("latin1");
  if (!header.includes(`Content-Type: ${encryptedProtocol}`)) {
    throw new EncryptedMessageError(
      `expected the header part to name ${encryptedProtocol}, found: ${header.trim()}`,
    );
  }
  const lengthMatch = /OriginalContent:[^\r\n]*;Length=(\d+)/i.exec(header);
  if (!lengthMatch) throw new EncryptedMessageError("expected OriginalContent with a Length, found none");
  const plainLength = Number(lengthMatch[1]);
  let at = headerEnd + boundary.length + 2 + octetStreamHeader.length;
  if (at + 4 > body.length) throw new EncryptedMessageError("the encrypted part is truncated");
  const signatureSize = body.readUInt32LE(at);
  at += 4;
  if (signatureSize !== signatureLength || at + signatureSize + plainLength > body.length) {
    throw new EncryptedMessageError(
      `expected a ${signatureLength}-byte signature and ${plainLength} sealed bytes, found a ${body.length}-byte body ` +
        `announcing a ${signatureSize}-byte signature`,
    );
  }
  const signature = body.subarray(at, at + signatureSize);
  const sealed = body.subarray(at + signatureSize, at + signatureSize + plainLength);
  const rest = body.subarray(at + signatureSize + plainLength).toString("latin1");
  if (rest !== `${boundary}--\r\n`) {
    throw new EncryptedMessageError(
      "expected the closing boundary right after the sealed envelope, found other data",
    );
  }
  try {
    return sealing.unseal(sealed, signature);
  } catch (error) {
    if (error instanceof NtlmSealError) throw new EncryptedMessageError(error.message);
    throw error;
  }
}
