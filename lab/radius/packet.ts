// RADIUS packets as the lab's NPS servers and VPN dials exchange them: RFC 2865 (format, User-Password,
// Response Authenticator) and RFC 3579 §3.2 (Message-Authenticator, HMAC-MD5 over the packet).
// Written here rather than taken from npm: the one RADIUS codec there ("radius" 1.1.4) is untyped, last
// released in 2017 and loads dictionary files at run time, while the lab needs only these few attributes.
import * as crypto from "node:crypto";

/** RFC 2865 §4: the packet codes the lab uses. */
export const radiusCodes = { accessRequest: 1, accessAccept: 2, accessReject: 3 } as const;

/** RFC 2865 §5 and RFC 3579 §3.2: attribute types the lab reads or writes. */
export const radiusAttributes = {
  userName: 1,
  userPassword: 2,
  nasIpAddress: 4,
  replyMessage: 18,
  nasIdentifier: 32,
  messageAuthenticator: 80,
} as const;

export interface RadiusAttribute {
  type: number;
  value: Buffer;
}

export interface RadiusPacket {
  code: number;
  identifier: number;
  /** Request Authenticator (random in a request) or Response Authenticator (in an answer). */
  authenticator: Buffer;
  attributes: RadiusAttribute[];
}

export class RadiusFormatError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "RadiusFormatError";
    this.message = `RADIUS: malformed packet: ${reason}`;
  }
}

const headerLength = 20;
const messageAuthenticatorLength = 16;

/** RFC 2865 §3: Code, Identifier, Length, Authenticator, then Type-Length-Value attributes. */
export function decodeRadius(data: Buffer): RadiusPacket {
  if (data.length < headerLength)
    throw new RadiusFormatError(`${data.length} bytes, under the 20-byte header`);
  const length = data.readUInt16BE(2);
  // §3: octets beyond Length are padding and ignored; a packet shorter than its Length is dropped.
  if (length < headerLength || length > 4096 || length > data.length) {
    throw new RadiusFormatError(`Length ${length} with ${data.length} bytes received`);
  }
  const attributes: RadiusAttribute[] = [];
  for (let offset = headerLength; offset < length;) {
    const attributeLength = data[offset + 1];
    if (attributeLength === undefined || attributeLength < 2 || offset + attributeLength > length) {
      throw new RadiusFormatError(`attribute at offset ${offset} overruns the packet`);
    }
    attributes.push({ type: data[offset], value: data.subarray(offset + 2, offset + attributeLength) });
    offset += attributeLength;
  }
  return { code: data[0], identifier: data[1], authenticator: data.subarray(4, 20), attributes };
}

export function encodeRadius(packet: RadiusPacket): Buffer {
  const parts = packet.attributes.map((attribute) => {
    if (attribute.value.length > 253)
      throw new RadiusFormatError(`attribute ${attribute.type} over 253 bytes`);
    return Buffer.concat([Buffer.from([attribute.type, attribute.value.length + 2]), attribute.value]);
  });
  const header = Buffer.alloc(headerLength);
  header[0] = packet.code;
  header[1] = packet.identifier;
  header.writeUInt16BE(headerLength + parts.reduce((sum, part) => sum + part.length, 0), 2);
  packet.authenticator.copy(header, 4);
  return Buffer.concat([header, ...parts]);
}

export function attributeOf(packet: RadiusPacket, type: number): Buffer | undefined {
  return packet.attributes.find((attribute) => attribute.type === type)?.value;
}

/** RFC 2865 §5.2: the password padded to 16-byte blocks, each XORed with MD5(secret + previous block). */
function hidePasswordBlocks(input: Buffer, secret: string, authenticator: Buffer, decrypt: boolean): Buffer {
  const output = Buffer.alloc(input.length);
  let previous = authenticator;
  for (let offset = 0; offset < input.length; offset += 16) {
    const pad = crypto.createHash("md5").update(secret).update(previous).digest();
    for (let i = 0; i < 16; i++) output[offset + i] = input[offset + i] ^ pad[i];
    previous = decrypt ? input.subarray(offset, offset + 16) : output.subarray(offset, offset + 16);
  }
  return output;
}

export function encryptUserPassword(password: string, secret: string, authenticator: Buffer): Buffer {
  const plain = Buffer.from(password, "utf8");
  if (plain.length > 128) throw new RadiusFormatError("User-Password over 128 bytes (RFC 2865 §5.2)");
  const padded = Buffer.alloc(Math.max(16, Math.ceil(plain.length / 16) * 16));
  plain.copy(padded);
  return hidePasswordBlocks(padded, secret, authenticator, false);
}

export function decryptUserPassword(hidden: Buffer, secret: string, authenticator: Buffer): string {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) {
    throw new RadiusFormatError(`User-Password of ${hidden.length} bytes is not 16-128 in blocks of 16`);
  }
  const plain = hidePasswordBlocks(hidden, secret, authenticator, true);
  const end = plain.indexOf(0);
  return plain.subarray(0, end === -1 ? plain.length : end).toString("utf8");
}

/**
 * RFC 3579 §3.2: HMAC-MD5 keyed with the secret over the whole packet, its own value zeroed; in an
 * answer the Request Authenticator stands in the header. `authenticator` is the one to hash with.
 */
function messageAuthenticatorFor(packet: RadiusPacket, secret: string, authenticator: Buffer): Buffer {
  const zeroed: RadiusPacket = {
    ...packet,
    authenticator,
    attributes: packet.attributes.map((attribute) =>
      attribute.type === radiusAttributes.messageAuthenticator
        ? { type: attribute.type, value: Buffer.alloc(messageAuthenticatorLength) }
        : attribute,
    ),
  };
  return crypto.createHmac("md5", secret).update(encodeRadius(zeroed)).digest();
}

/** Whether a request's Message-Authenticator is present and right. */
export function requestIsAuthentic(request: RadiusPacket, secret: string): boolean {
  const given = attributeOf(request, radiusAttributes.messageAuthenticator);
  if (!given || given.length !== messageAuthenticatorLength) return false;
  return crypto.timingSafeEqual(given, messageAuthenticatorFor(request, secret, request.authenticator));
}

/** An Access-Request with PAP and a Message-Authenticator, as RRAS sends one for a VPN dial. */
export function accessRequest(options: {
  identifier: number;
  userName: string;
  password: string;
  secret: string;
  nasIdentifier: string;
}): RadiusPacket {
  const authenticator = crypto.randomBytes(16);
  const packet: RadiusPacket = {
    code: radiusCodes.accessRequest,
    identifier: options.identifier,
    authenticator,
    attributes: [
      { type: radiusAttributes.userName, value: Buffer.from(options.userName, "utf8") },
      {
        type: radiusAttributes.userPassword,
        value: encryptUserPassword(options.password, options.secret, authenticator),
      },
      { type: radiusAttributes.nasIpAddress, value: Buffer.from([127, 0, 0, 1]) },
      { type: radiusAttributes.nasIdentifier, value: Buffer.from(options.nasIdentifier, "utf8") },
      { type: radiusAttributes.messageAuthenticator, value: Buffer.alloc(messageAuthenticatorLength) },
    ],
  };
  packet.attributes[4].value = messageAuthenticatorFor(packet, options.secret, authenticator);
  return packet;
}

/**
 * An Access-Accept or Access-Reject: Message-Authenticator computed with the Request Authenticator
 * (RFC 3579 §3.2), then the Response Authenticator MD5(Code+ID+Length+RequestAuth+Attributes+Secret)
 * (RFC 2865 §3).
 */
export function accessAnswer(
  request: RadiusPacket,
  code: typeof radiusCodes.accessAccept | typeof radiusCodes.accessReject,
  secret: string,
  replyMessage?: string,
): Buffer {
  const answer: RadiusPacket = {
    code,
    identifier: request.identifier,
    authenticator: request.authenticator,
    attributes: [
      ...(replyMessage
        ? [{ type: radiusAttributes.replyMessage, value: Buffer.from(replyMessage, "utf8") }]
        : []),
      { type: radiusAttributes.messageAuthenticator, value: Buffer.alloc(messageAuthenticatorLength) },
    ],
  };
  answer.attributes[answer.attributes.length - 1].value = messageAuthenticatorFor(
    answer,
    secret,
    request.authenticator,
  );
  const unsigned = encodeRadius(answer);
  const responseAuthenticator = crypto.createHash("md5").update(unsigned).update(secret).digest();
  responseAuthenticator.copy(unsigned, 4);
  return unsigned;
}

/** Whether an answer really comes from the server that holds the secret, for this request. */
export function answerIsAuthentic(answerBytes: Buffer, request: RadiusPacket, secret: string): boolean {
  const answer = decodeRadius(answerBytes);
  if (answer.identifier !== request.identifier) return false;
  const length = answerBytes.readUInt16BE(2);
  const withRequestAuthenticator = Buffer.from(answerBytes.subarray(0, length));
  request.authenticator.copy(withRequestAuthenticator, 4);
  const expected = crypto.createHash("md5").update(withRequestAuthenticator).update(secret).digest();
  if (!crypto.timingSafeEqual(expected, answer.authenticator)) return false;
  const given = attributeOf(answer, radiusAttributes.messageAuthenticator);
  return (
    given === undefined ||
    crypto.timingSafeEqual(given, messageAuthenticatorFor(answer, secret, request.authenticator))
  );
}
