// Graph failures as errors an operator can act on: the request, what Graph said, and what to do.
// Never includes tokens or request bodies (key credentials are public, but secrets might not be).

/** The application permission every write of this project needs. */
export const requiredGraphPermission = "Application.ReadWrite.All";

export class GraphRequestError extends Error {
  constructor(
    message: string,
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly code: string,
    /** Graph's Retry-After on a 429/503, in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "GraphRequestError";
  }
}

/** What to do after a status Graph answered with (after retries, for the retryable ones). */
function adviceFor(status: number, code: string): string {
  if (status === 403) {
    return (
      `The signed-in identity lacks the Microsoft Graph application permission ${requiredGraphPermission}: ` +
      "grant it to the application and give admin consent, or sign in as an identity that has it."
    );
  }
  if (status === 401) {
    return (
      "The access token was refused: check that the identity belongs to this tenant (npsmfa:tenantId) and " +
      "that npsmfa:graph.authorityHost and npsmfa:graph.endpoint are the same cloud."
    );
  }
  if (status === 429 || status === 503 || status === 504) {
    return "Graph kept throttling or was unavailable through every retry: run again in a few minutes.";
  }
  if (status === 404 || code === "Request_ResourceNotFound") {
    return "The object does not exist (any more): refresh the stack (pulumi refresh) and run again.";
  }
  return "See the message above; the request was not changed by retrying.";
}

export function graphStatusError(
  method: string,
  url: string,
  status: number,
  code: string,
  graphMessage: string,
  retryAfterSeconds?: number,
): GraphRequestError {
  return new GraphRequestError(
    `Microsoft Graph ${method} ${url} failed: expected success, found ${status} ${code || "(no code)"}` +
      `${graphMessage ? `: ${graphMessage}` : ""}. ${adviceFor(status, code)}`,
    method,
    url,
    status,
    code,
    retryAfterSeconds,
  );
}
