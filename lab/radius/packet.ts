// RADIUS packets as the lab's NPS servers and VPN dials exchange them: RFC 2865 (format, User-Password,
// Response Authenticator, Access-Challenge), RFC 3579 §3.2 (Message-Authenticator, HMAC-MD5 over the packet)
// and RFC 2548 (Microsoft's vendor-specific attributes, which carry MS-CHAPv2: lab/radius/mschapv2.ts).
// Written here rather than taken from npm: the one RADIUS codec there ("radius" 1.1.4) is untyped, last
// released in 2017 and loads dictionary files at run time, while the lab needs only these few attributes.
import * as crypto from "node:crypto";
import { microsoftAttributes, microsoftVendorId } from "./mschapv2";

/** RFC 2865 §4: the packet codes the lab uses. */
export const radiusCodes = {
  accessRequest: 1,
  accessAccept: 2,
  accessReject: 3,
  accessChallenge: 11,
} as const;

/** RFC 2865 §5 and RFC 3579 §3.2: attribute types the lab reads or writes. */
export const radiusAttributes = {
  userName: 1,
  userPassword: 2,
  nasIpAddress: 4,
  replyMessage: 18,
  state: 24,
  vendorSpecific: 26,
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

/** RFC 2865 §5.26: Vendor-Id (4 bytes), then one sub-attribute: vendor type, vendor length, value (RFC 2548 §2). */
export function vendorAttribute(vendorId: number, vendorType: number, value: Buffer): RadiusAttribute {
  const header = Buffer.alloc(6);
  header.writeUInt32BE(vendorId, 0);
  header[4] = vendorType;
  header[5] = value.length + 2;
  return { type: radiusAttributes.vendorSpecific, value: Buffer.concat([header, value]) };
}

export function vendorAttributeOf(
  packet: RadiusPacket,
  vendorId: number,
  vendorType: number,
): Buffer | undefined {
  for (const attribute of packet.attributes) {
    const { value } = attribute;
    if (attribute.type !== radiusAttributes.vendorSpecific || value.length < 6) continue;
    if (value.readUInt32BE(0) !== vendorId || value[4] !== vendorType) continue;
    if (value[5] < 2 || 4 + value[5] > value.length) continue;
    return value.subarray(6, 4 + value[5]);
  }
  return undefined;
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

/** What proves the user's password in an Access-Request: PAP's User-Password, or MS-CHAPv2's challenge and response. */
export type RequestCredentials =
  { protocol: "pap"; password: string } | { protocol: "mschapv2"; challenge: Buffer; response: Buffer };

/** The authentication protocol of a request as NPS tells it apart: by the attributes that carry the proof. */
export function requestProtocol(request: RadiusPacket): "pap" | "mschapv2" | undefined {
  if (attributeOf(request, radiusAttributes.userPassword)) return "pap";
  if (vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChap2Response)) return "mschapv2";
  return undefined;
}

/** An Access-Request with a Message-Authenticator, as RRAS sends one for a VPN dial. */
export function accessRequest(options: {
  identifier: number;
  userName: string;
  credentials: RequestCredentials;
  secret: string;
  nasIdentifier: string;
}): RadiusPacket {
  const authenticator = crypto.randomBytes(16);
  const { credentials } = options;
  const proof: RadiusAttribute[] =
    credentials.protocol === "pap"
      ? [
          {
            type: radiusAttributes.userPassword,
            value: encryptUserPassword(credentials.password, options.secret, authenticator),
          },
        ]
      : [
          vendorAttribute(microsoftVendorId, microsoftAttributes.msChapChallenge, credentials.challenge),
          vendorAttribute(microsoftVendorId, microsoftAttributes.msChap2Response, credentials.response),
        ];
  const packet: RadiusPacket = {
    code: radiusCodes.accessRequest,
    identifier: options.identifier,
    authenticator,
    attributes: [
      { type: radiusAttributes.userName, value: Buffer.from(options.userName, "utf8") },
      ...proof,
      { type: radiusAttributes.nasIpAddress, value: Buffer.from([127, 0, 0, 1]) },
      { type: radiusAttributes.nasIdentifier, value: Buffer.from(options.nasIdentifier, "utf8") },
      { type: radiusAttributes.messageAuthenticator, value: Buffer.alloc(messageAuthenticatorLength) },
    ],
  };
  packet.attributes[packet.attributes.length - 1].value = messageAuthenticatorFor(
    packet,
    options.secret,
    authenticator,
  );
  return packet;
}

/**
 * An Access-Accept, Access-Reject or Access-Challenge: Message-Authenticator computed with the Request
 * Authenticator (RFC 3579 §3.2), then the Response Authenticator MD5(Code+ID+Length+RequestAuth+Attributes+
 * Secret) (RFC 2865 §3).
 */
export function accessAnswer(
  request: RadiusPacket,
  code:
    typeof radiusCodes.accessAccept | typeof radiusCodes.accessReject | typeof radiusCodes.accessChallenge,
  secret: string,
  attributes: RadiusAttribute[] = [],
): Buffer {
  const answer: RadiusPacket = {
    code,
    identifier: request.identifier,
    authenticator: request.authenticator,
    attributes: [
      ...attributes,
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
