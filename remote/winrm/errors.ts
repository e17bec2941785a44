// Errors of the WinRM client. Each names the host as the stack calls it and the endpoint (with IP-based
// URLs the URL alone does not say which server failed), and says what to do; none carries a password.

/** Which host a WinRM error is about: the stack's name for it, and the URL the connection went to. */
export interface WinrmTarget {
  url: string;
  /** The host name of the stack configuration (npsServers[].hostname, vpnServers[].hostname). */
  hostname?: string;
}

/** "nps01.corp.example.com (https://10.1.2.3:5986/wsman)", or the URL alone when no name is known. */
export function describeTarget(target: WinrmTarget): string {
  return target.hostname ? `${target.hostname} (${target.url})` : target.url;
}

export class WinrmError extends Error {
  readonly url: string;
  readonly hostname: string | undefined;

  constructor(target: WinrmTarget, message: string) {
    super(`WinRM ${describeTarget(target)}: ${message}`);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = `WinRM ${describeTarget(target)}: ${message}`;
    this.name = "WinrmError";
    this.url = target.url;
    this.hostname = target.hostname;
  }
}

/** The server refused the credentials (HTTP 401 after a complete handshake). */
export class WinrmAuthenticationError extends WinrmError {
  constructor(target: WinrmTarget, message: string) {
    super(target, message);
    this.name = "WinrmAuthenticationError";
  }
}

/** TLS failed: untrusted certificate, wrong name, or a pinned thumbprint that does not match. */
export class WinrmTlsError extends WinrmError {
  constructor(target: WinrmTarget, message: string) {
    super(target, message);
    this.name = "WinrmTlsError";
  }
}

/** The connection failed, closed early or a request timed out; the command's outcome is unknown. */
export class WinrmConnectionError extends WinrmError {
  constructor(target: WinrmTarget, message: string) {
    super(target, message);
    this.name = "WinrmConnectionError";
  }
}

/**
 * A request got no answer within its time (the host or network is slow or down); `what` names the
 * request. The command's outcome is unknown.
 */
export class WinrmNoAnswerError extends WinrmConnectionError {
  constructor(
    target: WinrmTarget,
    message: string,
    readonly what: string,
  ) {
    super(target, message);
    this.name = "WinrmNoAnswerError";
  }
}

/** A SOAP fault other than the Receive timeout: the service understood and refused the request. */
export class WinrmFaultError extends WinrmError {
  constructor(
    target: WinrmTarget,
    message: string,
    readonly wsmanCode: string | undefined,
    readonly subcode: string | undefined,
  ) {
    super(target, message);
    this.name = "WinrmFaultError";
  }
}

/**
 * The operation (opening the shell, the command, its cleanup) outlived winrm.operationTimeoutSeconds:
 * a command still running was signalled to terminate, or the host stopped answering.
 */
export class WinrmCommandTimeoutError extends WinrmError {
  constructor(target: WinrmTarget, message: string) {
    super(target, message);
    this.name = "WinrmCommandTimeoutError";
  }
}
