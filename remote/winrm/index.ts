// The WinRM client: WinrmClient for providers; the protocol and transport layers for tests and tools.
export { WinrmClient, type WinrmClientOptions, type PowerShellResult } from "./client";
export {
  WinrmError,
  WinrmAuthenticationError,
  WinrmTlsError,
  WinrmConnectionError,
  WinrmFaultError,
  WinrmCommandTimeoutError,
} from "./errors";
export { WinrmShell, type CommandOutput, type ShellOptions } from "./shell";
export { WsmanHttpTransport, type SoapTransport, type TransportOptions } from "./transport";
export { clixmlToText } from "./clixml";
