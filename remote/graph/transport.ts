// The last link of the Graph SDK's middleware chain: sends one request over node:https. Written here
// rather than using the SDK's fetch-based HTTPMessageHandler because Node's built-in fetch cannot take
// an https.Agent, and trusting a lab CA or a TLS-inspecting proxy (npsmfa:graph.caFile) needs one.
// It also bounds every attempt with a timeout and retries dropped connections for safe requests;
// status-code retries (429/503/504, Retry-After) stay with the SDK's RetryHandler above it.
import * as https from "node:https";
import type { Context, Middleware, MiddlewareOptions } from "@microsoft/microsoft-graph-client";

export interface TransportOptions {
  agent?: https.Agent;
  /** Per attempt: connect, send and receive the whole response. */
  requestTimeoutMs: number;
  /** Attempts for a request whose connection failed before an answer (not for non-idempotent POSTs). */
  connectionAttempts: number;
  /** First pause after a dropped connection; doubles each time. */
  connectionRetryDelayMs: number;
}

export class GraphUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "GraphUnreachableError";
  }
}

/**
 * Per-request option: send this request at most once, and give up on it at `deadline` (epoch ms). For a
 * write whose body was computed from an earlier read (a whole keyCredentials collection): resending it
 * after a dropped connection could replay stale data, and a bounded lifetime lets other writers know
 * when it can no longer land. RFC 9110 section 9.2.2: clients do not retry non-idempotent requests.
 */
export class SingleAttempt implements MiddlewareOptions {
  constructor(readonly deadline: number) {}
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

function headerRecord(headers: unknown): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers as [string, string][]);
  return { ...(headers as Record<string, string>) };
}

function sendOnce(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  options: TransportOptions,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method, headers, agent: options.agent, timeout: options.requestTimeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined)
              responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          resolve({
            status: response.statusCode ?? 0,
            headers: responseHeaders,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      },
    );
    // `timeout` only covers idle sockets; this bounds the whole exchange.
    const deadline = setTimeout(
      () => request.destroy(Object.assign(new Error("no complete answer"), { code: "ETIMEDOUT" })),
      options.requestTimeoutMs,
    );
    request.on("close", () => clearTimeout(deadline));
    request.on("timeout", () =>
      request.destroy(Object.assign(new Error("no answer"), { code: "ETIMEDOUT" })),
    );
    request.on("error", reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

/** POST /servicePrincipals is not idempotent; a $batch of reads is. */
function safeToResend(method: string, url: string): boolean {
  return method !== "POST" || /\/\$batch(\?|$)/.test(url);
}

export class HttpsTransport implements Middleware {
  constructor(private readonly options: TransportOptions) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === "string" ? context.request : context.request.url;
    const method = (context.options?.method ?? "GET").toUpperCase();
    const headers = headerRecord(context.options?.headers);
    const body = context.options?.body === undefined ? undefined : String(context.options.body);
    const single = context.middlewareControl?.getMiddlewareOptions(SingleAttempt) as
      SingleAttempt | undefined;
    const attempts = single || !safeToResend(method, url) ? 1 : this.options.connectionAttempts;
    const timeoutMs = single
      ? Math.min(this.options.requestTimeoutMs, single.deadline - Date.now())
      : this.options.requestTimeoutMs;
    if (timeoutMs <= 0) {
      throw new GraphUnreachableError(
        `Microsoft Graph ${method} ${url}: not sent, its deadline passed before it could be (sign-in was slow).`,
      );
    }
    let lastError: NodeJS.ErrnoException | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const raw = await sendOnce(url, method, headers, body, {
          ...this.options,
          requestTimeoutMs: timeoutMs,
        });
        const emptyBody = raw.status === 204 || raw.status === 304 || raw.body === "";
        context.response = new Response(emptyBody ? null : raw.body, {
          status: raw.status,
          headers: raw.headers,
        });
        return;
      } catch (error) {
        lastError = error as NodeJS.ErrnoException;
        if (attempt < attempts) {
          await new Promise((resolve) =>
            setTimeout(resolve, this.options.connectionRetryDelayMs * 2 ** (attempt - 1)),
          );
        }
      }
    }
    throw new GraphUnreachableError(
      `Microsoft Graph ${method} ${url}: expected an answer, found ${lastError?.code ?? "a failure"} ` +
        `(${lastError?.message ?? "unknown"}) after ${attempts} attempt${attempts === 1 ? "" : "s"} of at most ` +
        `${timeoutMs} ms each. Check npsmfa:graph.endpoint, DNS, the proxy and that outbound ` +
        "HTTPS to that host is allowed.",
    );
  }
}
