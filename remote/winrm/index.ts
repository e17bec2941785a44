// The WinRM client: WinrmClient for providers; the protocol and transport layers for tests and tools.
export { WinrmClient, type WinrmClientOptions, type PowerShellResult } from "./client";
export {
  WinrmError,
  WinrmAuthenticationError,
  WinrmTlsError,
  WinrmConnectionError,
  WinrmNoAnswerError,
  WinrmFaultError,
  WinrmCommandTimeoutError,
  describeTarget,
  type WinrmTarget,
} from "./errors";
export {
  WinrmShell,
  operationBudget,
  type CommandOutput,
  type ShellOptions,
  type OperationBudget,
} from "./shell";
export { WsmanHttpTransport, type SoapTransport, type TransportOptions } from "./transport";
export { clixmlToText } from "./clixml";
