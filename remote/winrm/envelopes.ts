// WS-Management shell envelopes (MS-WSMV, the "cmd" resource of winrs): pure functions that build the
// SOAP requests of a shell's lifecycle and read the answers. No I/O: transport.ts moves the bytes.
import { randomUUID } from "node:crypto";
import { XMLParser } from "fast-xml-parser";

export const namespaces = {
  soap: "http://www.w3.org/2003/05/soap-envelope",
  addressing: "http://schemas.xmlsoap.org/ws/2004/08/addressing",
  wsman: "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
  wsmv: "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
  shell: "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
  transfer: "http://schemas.xmlsoap.org/ws/2004/09/transfer",
  fault: "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
} as const;

export const actions = {
  create: `${namespaces.transfer}/Create`,
  delete: `${namespaces.transfer}/Delete`,
  command: `${namespaces.shell}/Command`,
  send: `${namespaces.shell}/Send`,
  receive: `${namespaces.shell}/Receive`,
  signal: `${namespaces.shell}/Signal`,
} as const;

export const cmdShellUri = `${namespaces.shell}/cmd`;
export const anonymousAddress = `${namespaces.addressing}/role/anonymous`;
export const commandDoneState = `${namespaces.shell}/CommandState/Done`;
export const signals = {
  terminate: `${namespaces.shell}/signal/terminate`,
  ctrlC: `${namespaces.shell}/signal/ctrl_c`,
} as const;

/** WSManFault code of w:TimedOut on Receive: "no output yet, receive again". */
export const operationTimedOutCode = "2150858793";
/** The envelope size pywinrm and winrs ask for; Windows accepts up to MaxEnvelopeSizekb (500 KB). */
export const defaultMaxEnvelopeSize = 153600;
/** UTF-8 code page for the shell's console (WINRS_CODEPAGE), so non-ASCII output survives. */
export const utf8CodePage = 65001;

export interface EnvelopeHeader {
  /** The endpoint URL, e.g. https://nps01:5986/wsman. */
  to: string;
  action: string;
  maxEnvelopeSize: number;
  operationTimeoutSeconds: number;
  shellId?: string;
  options?: Record<string, string>;
  /** Fixed by tests; a fresh uuid otherwise. */
  messageId?: string;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** xs:duration for w:OperationTimeout, e.g. PT20.000S. */
export function isoDurationSeconds(seconds: number): string {
  return `PT${seconds.toFixed(3)}S`;
}

export function envelope(header: EnvelopeHeader, body: string): string {
  const options = Object.entries(header.options ?? {});
  return (
    `<s:Envelope xmlns:s="${namespaces.soap}" xmlns:a="${namespaces.addressing}" xmlns:w="${namespaces.wsman}" ` +
    `xmlns:p="${namespaces.wsmv}" xmlns:rsp="${namespaces.shell}">` +
    "<s:Header>" +
    `<a:To>${escapeXml(header.to)}</a:To>` +
    `<a:ReplyTo><a:Address s:mustUnderstand="true">${anonymousAddress}</a:Address></a:ReplyTo>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${header.maxEnvelopeSize}</w:MaxEnvelopeSize>` +
    `<a:MessageID>uuid:${header.messageId ?? randomUUID()}</a:MessageID>` +
    '<p:Locale s:mustUnderstand="false" xml:lang="en-US"/>' +
    '<p:DataLocale s:mustUnderstand="false" xml:lang="en-US"/>' +
    `<w:OperationTimeout>${isoDurationSeconds(header.operationTimeoutSeconds)}</w:OperationTimeout>` +
    `<w:ResourceURI s:mustUnderstand="true">${cmdShellUri}</w:ResourceURI>` +
    `<a:Action s:mustUnderstand="true">${header.action}</a:Action>` +
    (header.shellId
      ? `<w:SelectorSet><w:Selector Name="ShellId">${escapeXml(header.shellId)}</w:Selector></w:SelectorSet>`
      : "") +
    (options.length > 0
      ? "<w:OptionSet>" +
        options
          .map(([name, value]) => `<w:Option Name="${escapeXml(name)}">${escapeXml(value)}</w:Option>`)
          .join("") +
        "</w:OptionSet>"
      : "") +
    "</s:Header>" +
    `<s:Body>${body}</s:Body>` +
    "</s:Envelope>"
  );
}

type Common = Omit<EnvelopeHeader, "action" | "shellId" | "options">;

export function createShellRequest(common: Common, codePage = utf8CodePage): string {
  return envelope(
    {
      ...common,
      action: actions.create,
      options: { WINRS_NOPROFILE: "TRUE", WINRS_CODEPAGE: String(codePage) },
    },
    "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>",
  );
}

/**
 * `stdinPiped`: the command's input will come by Send. MS-WSMV 3.1.4.11: WINRS_CONSOLEMODE_STDIN TRUE
 * makes stdin a console, FALSE a pipe; through a console the process never sees the end of the input
 * (`$input | Out-String` would wait forever), so piping clients send FALSE (as Ansible's winrm plugin does).
 */
export function commandRequest(
  common: Common,
  shellId: string,
  commandLine: string,
  stdinPiped = false,
): string {
  return envelope(
    {
      ...common,
      action: actions.command,
      shellId,
      options: { WINRS_CONSOLEMODE_STDIN: stdinPiped ? "FALSE" : "TRUE", WINRS_SKIP_CMD_SHELL: "FALSE" },
    },
    `<rsp:CommandLine><rsp:Command>${escapeXml(commandLine)}</rsp:Command></rsp:CommandLine>`,
  );
}

export function sendRequest(
  common: Common,
  shellId: string,
  commandId: string,
  data: Buffer,
  end: boolean,
): string {
  return envelope(
    { ...common, action: actions.send, shellId },
    `<rsp:Send><rsp:Stream Name="stdin" CommandId="${escapeXml(commandId)}"${end ? ' End="true"' : ""}>` +
      `${data.toString("base64")}</rsp:Stream></rsp:Send>`,
  );
}

export function receiveRequest(common: Common, shellId: string, commandId: string): string {
  return envelope(
    { ...common, action: actions.receive, shellId },
    `<rsp:Receive><rsp:DesiredStream CommandId="${escapeXml(commandId)}">stdout stderr</rsp:DesiredStream></rsp:Receive>`,
  );
}

export function signalRequest(common: Common, shellId: string, commandId: string, code: string): string {
  return envelope(
    { ...common, action: actions.signal, shellId },
    `<rsp:Signal CommandId="${escapeXml(commandId)}"><rsp:Code>${code}</rsp:Code></rsp:Signal>`,
  );
}

export function deleteShellRequest(common: Common, shellId: string): string {
  return envelope({ ...common, action: actions.delete, shellId }, "");
}

/**
 * Bytes an envelope adds around a Send's base64 payload; generous so that long host names and
 * ids still fit. Used to size stdin chunks under MaxEnvelopeSize.
 */
export const sendEnvelopeOverhead = 4096;

/** Largest stdin chunk whose Send envelope stays under maxEnvelopeSize. */
export function stdinChunkBytes(maxEnvelopeSize: number): number {
  const base64Room = maxEnvelopeSize - sendEnvelopeOverhead;
  if (base64Room < 1024) {
    throw new RangeError(`MaxEnvelopeSize ${maxEnvelopeSize} leaves no room for stdin; use at least 8192`);
  }
  return Math.floor(base64Room / 4) * 3;
}

// ---- reading answers ----

// Options only, with the parser made per call: a parser instance at module scope is serialized by value
// into every Windows provider's __provider, and its minified code fails under plain node ("missing variable
// window"). XMLParser itself is then captured as a require("fast-xml-parser") reference.
const parserOptions = {
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name: string) => ["Stream", "Selector", "Option", "Arguments", "Text"].includes(name),
};

/** A parsed XML node: local names as keys, attributes as "@Name", text as "#text". */
export type XmlNode = Record<string, unknown>;

export function parseXml(xml: string): XmlNode {
  return new XMLParser(parserOptions).parse(xml) as XmlNode;
}

export function child(node: unknown, ...names: string[]): unknown {
  let current = node;
  for (const name of names) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as XmlNode)[name];
  }
  return current;
}

export function textOf(node: unknown): string | undefined {
  if (typeof node === "string") return node;
  if (Array.isArray(node)) return textOf(node[0]);
  if (node && typeof node === "object") {
    const text = (node as XmlNode)["#text"];
    return typeof text === "string" ? text : text === undefined ? "" : String(text);
  }
  return undefined;
}

export function bodyOf(xml: string): XmlNode {
  const body = child(parseXml(xml), "Envelope", "Body");
  if (body === undefined) throw new EnvelopeError("expected a SOAP envelope with a Body, found other XML");
  return (body || {}) as XmlNode;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "EnvelopeError";
  }
}

export interface WsmanFault {
  code?: string;
  subcode?: string;
  reason: string;
  wsmanCode?: string;
}

/** The SOAP fault in an answer, or undefined when there is none (or it is not XML at all). */
export function parseFault(xml: string): WsmanFault | undefined {
  let body: XmlNode;
  try {
    body = bodyOf(xml);
  } catch {
    return undefined;
  }
  const fault = body.Fault;
  if (!fault) return undefined;
  const wsmanFault = child(fault, "Detail", "WSManFault");
  const message = textOf(child(wsmanFault, "Message"))?.trim();
  return {
    code: textOf(child(fault, "Code", "Value")),
    subcode: textOf(child(fault, "Code", "Subcode", "Value")),
    reason: textOf(child(fault, "Reason", "Text"))?.trim() || message || "(the fault gives no reason)",
    wsmanCode: (wsmanFault as XmlNode | undefined)?.["@Code"] as string | undefined,
  };
}

export function isOperationTimeout(fault: WsmanFault): boolean {
  return fault.wsmanCode === operationTimedOutCode || /(^|:)TimedOut$/.test(fault.subcode ?? "");
}

export function parseShellId(xml: string): string {
  const body = bodyOf(xml);
  const selectors = child(body, "ResourceCreated", "ReferenceParameters", "SelectorSet", "Selector");
  const fromSelector = Array.isArray(selectors)
    ? selectors.find((selector: XmlNode) => selector["@Name"] === "ShellId")
    : undefined;
  const shellId = textOf(fromSelector) || textOf(child(body, "Shell", "ShellId"));
  if (!shellId) throw new EnvelopeError("expected a ShellId in the Create response, found none");
  return shellId;
}

export function parseCommandId(xml: string): string {
  const commandId = textOf(child(bodyOf(xml), "CommandResponse", "CommandId"));
  if (!commandId) throw new EnvelopeError("expected a CommandId in the Command response, found none");
  return commandId;
}

export interface ReceiveResult {
  stdout: Buffer;
  stderr: Buffer;
  done: boolean;
  exitCode?: number;
}

export function parseReceiveResponse(xml: string): ReceiveResult {
  const response = child(bodyOf(xml), "ReceiveResponse");
  if (response === undefined) throw new EnvelopeError("expected a ReceiveResponse, found another answer");
  const streams = (child(response, "Stream") ?? []) as XmlNode[];
  const bytesOf = (name: string) =>
    Buffer.concat(
      streams
        .filter((stream) => stream["@Name"] === name)
        .map((stream) => Buffer.from(textOf(stream) ?? "", "base64")),
    );
  const state = child(response, "CommandState") as XmlNode | undefined;
  const done = state?.["@State"] === commandDoneState;
  const exitText = textOf(child(state, "ExitCode"));
  return {
    stdout: bytesOf("stdout"),
    stderr: bytesOf("stderr"),
    done,
    exitCode: exitText === undefined || exitText === "" ? undefined : Number(exitText),
  };
}
