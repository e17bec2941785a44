// The server side of the WS-Management shell envelopes: read a request's header and body, build the
// answers and faults Windows sends. Pure functions; lab/winrm/host.ts does the serving.
import { randomUUID } from "node:crypto";
import {
  actions,
  anonymousAddress,
  child,
  cmdShellUri,
  commandDoneState,
  escapeXml,
  namespaces,
  operationTimedOutCode,
  parseXml,
  textOf,
  type XmlNode,
} from "../../remote/winrm/envelopes";

export interface WsmanRequest {
  action: string;
  messageId: string;
  /** Seconds; Windows' default when the header is absent is 60. */
  operationTimeoutSeconds: number;
  maxEnvelopeSize?: number;
  shellId?: string;
  options: Record<string, string>;
  body: XmlNode;
}

export class RequestError extends Error {}

/** xs:duration as seconds: PT20S, PT20.000S, PT1M30S. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!match) return undefined;
  const [, days, hours, minutes, seconds] = match;
  return (
    Number(days ?? 0) * 86400 + Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0)
  );
}

export function parseRequest(xml: string): WsmanRequest {
  let root: XmlNode;
  try {
    root = parseXml(xml);
  } catch (error) {
    throw new RequestError(`the request is not well-formed XML: ${(error as Error).message}`);
  }
  const header = child(root, "Envelope", "Header");
  const body = child(root, "Envelope", "Body");
  if (header === undefined || body === undefined)
    throw new RequestError("expected a SOAP envelope with a Header and a Body");
  const action = textOf(child(header, "Action"));
  if (!action) throw new RequestError("expected a wsa:Action header");
  const selectors = (child(header, "SelectorSet", "Selector") ?? []) as XmlNode[];
  const options: Record<string, string> = {};
  for (const option of (child(header, "OptionSet", "Option") ?? []) as XmlNode[]) {
    options[String(option["@Name"])] = textOf(option) ?? "";
  }
  const timeoutText = textOf(child(header, "OperationTimeout"));
  const maxEnvelopeText = textOf(child(header, "MaxEnvelopeSize"));
  return {
    action,
    messageId: textOf(child(header, "MessageID")) ?? "",
    operationTimeoutSeconds: (timeoutText && parseDurationSeconds(timeoutText)) || 60,
    maxEnvelopeSize: maxEnvelopeText ? Number(maxEnvelopeText) : undefined,
    shellId: textOf(selectors.find((selector) => selector["@Name"] === "ShellId")),
    options,
    body: (body || {}) as XmlNode,
  };
}

function answer(request: Pick<WsmanRequest, "messageId">, action: string, body: string): string {
  return (
    `<s:Envelope xmlns:s="${namespaces.soap}" xmlns:a="${namespaces.addressing}" xmlns:w="${namespaces.wsman}" ` +
    `xmlns:x="${namespaces.transfer}" xmlns:rsp="${namespaces.shell}" xml:lang="en-US">` +
    "<s:Header>" +
    `<a:Action>${action}</a:Action>` +
    `<a:MessageID>uuid:${randomUUID()}</a:MessageID>` +
    `<a:To>${anonymousAddress}</a:To>` +
    (request.messageId ? `<a:RelatesTo>${escapeXml(request.messageId)}</a:RelatesTo>` : "") +
    "</s:Header>" +
    `<s:Body>${body}</s:Body>` +
    "</s:Envelope>"
  );
}

export function createResponse(request: WsmanRequest, url: string, shellId: string): string {
  return answer(
    request,
    `${namespaces.transfer}/CreateResponse`,
    "<x:ResourceCreated>" +
      `<a:Address>${escapeXml(url)}</a:Address>` +
      "<a:ReferenceParameters>" +
      `<w:ResourceURI>${cmdShellUri}</w:ResourceURI>` +
      `<w:SelectorSet><w:Selector Name="ShellId">${shellId}</w:Selector></w:SelectorSet>` +
      "</a:ReferenceParameters>" +
      "</x:ResourceCreated>" +
      `<rsp:Shell><rsp:ShellId>${shellId}</rsp:ShellId><rsp:ResourceUri>${cmdShellUri}</rsp:ResourceUri>` +
      "<rsp:State>Connected</rsp:State></rsp:Shell>",
  );
}

export function commandResponse(request: WsmanRequest, commandId: string): string {
  return answer(
    request,
    `${actions.command}Response`,
    `<rsp:CommandResponse><rsp:CommandId>${commandId}</rsp:CommandId></rsp:CommandResponse>`,
  );
}

export function emptyResponse(request: WsmanRequest, action: string): string {
  const bodies: Record<string, string> = {
    [actions.send]: "<rsp:SendResponse/>",
    [actions.signal]: "<rsp:SignalResponse/>",
    [actions.delete]: "",
  };
  return answer(request, `${action}Response`, bodies[action] ?? "");
}

export interface ReceiveChunk {
  stdout: Buffer;
  stderr: Buffer;
  /** Set when this answer carries the last output of a finished command. */
  exitCode?: number;
}

export function receiveResponse(request: WsmanRequest, commandId: string, chunk: ReceiveChunk): string {
  const done = chunk.exitCode !== undefined;
  const stream = (name: string, data: Buffer) =>
    data.length > 0 || done
      ? `<rsp:Stream Name="${name}" CommandId="${commandId}"${done ? ' End="true"' : ""}>${data.toString("base64")}</rsp:Stream>`
      : "";
  const state = done
    ? `<rsp:CommandState CommandId="${commandId}" State="${commandDoneState}"><rsp:ExitCode>${chunk.exitCode}</rsp:ExitCode></rsp:CommandState>`
    : `<rsp:CommandState CommandId="${commandId}" State="${namespaces.shell}/CommandState/Running"/>`;
  return answer(
    request,
    `${actions.receive}Response`,
    `<rsp:ReceiveResponse>${stream("stdout", chunk.stdout)}${stream("stderr", chunk.stderr)}${state}</rsp:ReceiveResponse>`,
  );
}

/** Bytes a Receive answer adds around its base64 streams. */
export const receiveOverhead = 2048;

export interface FaultSpec {
  code: "s:Sender" | "s:Receiver";
  subcode: string;
  wsmanCode: string;
  reason: string;
}

export const faults = {
  timedOut: (): FaultSpec => ({
    code: "s:Receiver",
    subcode: "w:TimedOut",
    wsmanCode: operationTimedOutCode,
    reason:
      "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
  }),
  envelopeTooLarge: (size: number, limit: number): FaultSpec => ({
    code: "s:Sender",
    subcode: "w:EncodingLimit",
    wsmanCode: "2150859025",
    reason:
      `The WS-Management service cannot process the request because the request size (${size} bytes) exceeds ` +
      `the configured MaxEnvelopeSize quota (${limit} bytes).`,
  }),
  shellNotFound: (shellId: string): FaultSpec => ({
    code: "s:Sender",
    subcode: "w:InvalidSelectors",
    wsmanCode: "2150858843",
    reason: `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell was not found on the server.`,
  }),
  commandNotFound: (commandId: string): FaultSpec => ({
    code: "s:Sender",
    subcode: "w:InvalidParameter",
    wsmanCode: "2150858843",
    reason: `The command with CommandId ${commandId} was not found in this shell.`,
  }),
  unsupported: (what: string): FaultSpec => ({
    code: "s:Sender",
    subcode: "w:ActionNotSupported",
    wsmanCode: "2150858797",
    reason: `The WS-Management service does not support the request: ${what}.`,
  }),
  malformed: (what: string): FaultSpec => ({
    code: "s:Sender",
    subcode: "w:SchemaValidationError",
    wsmanCode: "2150858817",
    reason: `The SOAP XML in the message does not match the corresponding XML schema definition: ${what}.`,
  }),
};

export function faultResponse(
  request: Pick<WsmanRequest, "messageId">,
  machine: string,
  fault: FaultSpec,
): string {
  return answer(
    request,
    `${namespaces.addressing}/fault`,
    "<s:Fault>" +
      `<s:Code><s:Value>${fault.code}</s:Value><s:Subcode><s:Value>${fault.subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en-US">${escapeXml(fault.reason)}</s:Text></s:Reason>` +
      `<s:Detail><f:WSManFault xmlns:f="${namespaces.fault}" Code="${fault.wsmanCode}" Machine="${escapeXml(machine)}">` +
      `<f:Message>${escapeXml(fault.reason)}</f:Message></f:WSManFault></s:Detail>` +
      "</s:Fault>",
  );
}

/** The body elements a request names, for requests whose header does not identify them enough. */
export function commandLineOf(request: WsmanRequest): { command: string; args: string[] } {
  const line = child(request.body, "CommandLine");
  const command = textOf(child(line, "Command"));
  if (command === undefined)
    throw new RequestError("expected rsp:CommandLine/rsp:Command in the Command request");
  const args = ((child(line, "Arguments") ?? []) as unknown[]).map((arg) => textOf(arg) ?? "");
  return { command, args };
}

export interface SendStream {
  commandId: string;
  data: Buffer;
  end: boolean;
}

export function sendStreamsOf(request: WsmanRequest): SendStream[] {
  const streams = (child(request.body, "Send", "Stream") ?? []) as XmlNode[];
  return streams.map((stream) => ({
    commandId: String(stream["@CommandId"] ?? ""),
    data: Buffer.from(textOf(stream) ?? "", "base64"),
    end: String(stream["@End"] ?? "").toLowerCase() === "true",
  }));
}

export function receiveCommandIdOf(request: WsmanRequest): string {
  const desired = child(request.body, "Receive", "DesiredStream") as XmlNode | undefined;
  return String(desired?.["@CommandId"] ?? "");
}

export function signalOf(request: WsmanRequest): { commandId: string; code: string } {
  const signal = child(request.body, "Signal") as XmlNode | undefined;
  return { commandId: String(signal?.["@CommandId"] ?? ""), code: textOf(child(signal, "Code")) ?? "" };
}
