// Errors of the WinRM client. Each names the endpoint and says what to do; none carries a password.

export class WinrmError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(`WinRM ${url}: ${message}`);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = `WinRM ${url}: ${message}`;
    this.name = "WinrmError";
  }
}

/** The server refused the credentials (HTTP 401 after a complete handshake). */
export class WinrmAuthenticationError extends WinrmError {
  constructor(url: string, message: string) {
    super(url, message);
    this.name = "WinrmAuthenticationError";
  }
}

/** TLS failed: untrusted certificate, wrong name, or a pinned thumbprint that does not match. */
export class WinrmTlsError extends WinrmError {
  constructor(url: string, message: string) {
    super(url, message);
    this.name = "WinrmTlsError";
  }
}

/** The connection failed, closed early or a request timed out; the command's outcome is unknown. */
export class WinrmConnectionError extends WinrmError {
  constructor(url: string, message: string) {
    super(url, message);
    this.name = "WinrmConnectionError";
  }
}

/** A SOAP fault other than the Receive timeout: the service understood and refused the request. */
export class WinrmFaultError extends WinrmError {
  constructor(
    url: string,
    message: string,
    readonly wsmanCode: string | undefined,
    readonly subcode: string | undefined,
  ) {
    super(url, message);
    this.name = "WinrmFaultError";
  }
}

/** A command ran longer than its timeout; it was signalled to terminate. */
export class WinrmCommandTimeoutError extends WinrmError {
  constructor(url: string, message: string) {
    super(url, message);
    this.name = "WinrmCommandTimeoutError";
  }
}
