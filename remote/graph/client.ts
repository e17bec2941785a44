// Microsoft Graph client: the Graph SDK's middleware chain (authentication, RetryHandler for 429/503/504
// honouring Retry-After with capped exponential backoff otherwise) over our HTTPS transport (CA agent,
// per-attempt timeout, dropped-connection retries), plus $batch reads and errors that say what to do.
import * as fs from "node:fs";
import * as https from "node:https";
import {
  AuthenticationHandler,
  Client,
  GraphError,
  RetryHandler,
  RetryHandlerOptions,
} from "@microsoft/microsoft-graph-client";
import type { AccessToken, TokenCredential } from "@azure/identity";
import type { StackConfig } from "../../config/schema";
import { batchChunks, batchRequestBody, batchResponsesInOrder, BatchResponse } from "./batch";
import { credentialFor } from "./credential";
import { graphEndpointsFor, GraphEndpoints } from "./endpoints";
import { graphStatusError } from "./errors";
import { GraphUnreachableError, HttpsTransport, SingleAttempt } from "./transport";

export interface GraphClientSettings {
  endpoints: GraphEndpoints;
  tenantId: string;
  credential: TokenCredential;
  agent?: https.Agent;
  /** Per attempt. */
  requestTimeoutMs?: number;
  /** Retries of a throttled (429) or unavailable (503/504) answer; the SDK allows at most 10. */
  maxRetries?: number;
  /** First pause when Graph sends no Retry-After; grows exponentially. Seconds. */
  retryDelaySeconds?: number;
  /** Cap on any single pause, Retry-After included. Seconds. */
  maxRetryDelaySeconds?: number;
  /** Attempts of a request whose connection drops before an answer. */
  connectionAttempts?: number;
}

export interface GraphQuery {
  select?: string[];
  filter?: string;
}

// An array, not a Set: Pulumi serializes provider code by value and a module-level Set arrives as a plain
// object whose .has() throws ("called on incompatible receiver"), on exactly the 429/503 retry path.
const retryableStatuses = [429, 503, 504];

/** The SDK caps pauses at 180 s; a Pulumi run waiting three minutes per request is worse than failing. */
class CappedRetryOptions extends RetryHandlerOptions {
  constructor(
    delaySeconds: number,
    maxRetries: number,
    private readonly capSeconds: number,
  ) {
    super(delaySeconds, maxRetries);
  }
  getMaxDelay(): number {
    return this.capSeconds;
  }
}

class GraphSignInError extends Error {
  constructor(message: string) {
    super(message);
    // Pulumi serializes providers with `Error.call(this, ...)` for super(), which sets no message: set it here.
    this.message = message;
    this.name = "GraphSignInError";
  }
}

function queryString(query: GraphQuery | undefined): string {
  const parts: string[] = [];
  if (query?.filter) parts.push(`$filter=${encodeURIComponent(query.filter)}`);
  if (query?.select) parts.push(`$select=${query.select.join(",")}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

/** How long a GET waits for others to share its $batch. */
const getWindowMs = 10;
/** A token is renewed this long before it expires. */
const tokenRenewalMs = 120_000;

/**
 * One access token for every caller of a client: callers that ask while a sign-in is under way wait for
 * that sign-in rather than each starting its own, and the token is reused until shortly before it expires.
 */
function sharedTokens(credential: TokenCredential, scope: string): () => Promise<AccessToken | null> {
  let current: Promise<AccessToken | null> | undefined;
  return () => {
    if (current) return current;
    const signIn = credential.getToken(scope).then(
      (token) => {
        const forgetAt = token ? token.expiresOnTimestamp - tokenRenewalMs - Date.now() : 0;
        const forget = () => {
          if (current === signIn) current = undefined;
        };
        if (forgetAt > 0) setTimeout(forget, forgetAt).unref();
        else forget();
        return token;
      },
      (error) => {
        current = undefined;
        throw error;
      },
    );
    current = signIn;
    return signIn;
  };
}

export class GraphClient {
  private readonly sdk: Client;
  private readonly settings: Required<Omit<GraphClientSettings, "agent">> & { agent?: https.Agent };

  constructor(settings: GraphClientSettings) {
    this.settings = {
      requestTimeoutMs: 30_000,
      maxRetries: 6,
      retryDelaySeconds: 1,
      maxRetryDelaySeconds: 30,
      connectionAttempts: 3,
      ...settings,
    };
    const { endpoints, credential, tenantId } = this.settings;
    const tokens = sharedTokens(credential, endpoints.scope);
    const auth = new AuthenticationHandler({
      getAccessToken: async () => {
        try {
          const token = await tokens();
          if (!token) throw new Error("the credential returned no token");
          return token.token;
        } catch (error) {
          throw new GraphSignInError(
            `Signing in to ${endpoints.authorityHost} for tenant ${tenantId} (scope ${endpoints.scope}) failed: ` +
              `${(error as Error).message.split("\n")[0]}. Sign in (az login, a managed identity, ` +
              "AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID) or set npsmfa:graph.clientId and clientSecret.",
          );
        }
      },
    });
    const retry = new RetryHandler(
      new CappedRetryOptions(
        this.settings.retryDelaySeconds,
        this.settings.maxRetries,
        this.settings.maxRetryDelaySeconds,
      ),
    );
    const transport = new HttpsTransport({
      agent: this.settings.agent,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      connectionAttempts: this.settings.connectionAttempts,
      connectionRetryDelayMs: 250,
    });
    auth.setNext(retry);
    retry.setNext(transport);
    this.sdk = Client.initWithMiddleware({
      middleware: auth,
      baseUrl: endpoints.baseUrl,
      defaultVersion: endpoints.version,
      customHosts: new Set([new URL(endpoints.graphRoot).hostname]),
    });
  }

  get graphRoot(): string {
    return this.settings.endpoints.graphRoot;
  }

  /**
   * Reads one object. GETs that arrive within a few milliseconds of each other (the engine refreshes all
   * resources at once) leave in one $batch; each caller gets its own answer, or the error a GET of its
   * own would have thrown.
   */
  get<T>(path: string, query?: GraphQuery): Promise<T> {
    const target = path + queryString(query);
    return new Promise<T>((resolve, reject) => {
      this.pendingGets.push({ target, resolve: resolve as (body: unknown) => void, reject });
      this.getTimer ??= setTimeout(() => void this.sendGets(), getWindowMs);
    });
  }

  private pendingGets: {
    target: string;
    resolve: (body: unknown) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private getTimer: NodeJS.Timeout | undefined;

  private async sendGets(): Promise<void> {
    this.getTimer = undefined;
    const gets = this.pendingGets.splice(0);
    if (gets.length === 1) {
      const [only] = gets;
      this.call("GET", only.target, () => this.sdk.api(only.target).get()).then(only.resolve, only.reject);
      return;
    }
    try {
      const answers = await this.getMany(gets.map((get) => get.target));
      answers.forEach((answer, index) => {
        const get = gets[index];
        if (answer.status >= 200 && answer.status < 300) return get.resolve(answer.body);
        const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
        const retryAfter = Number(answer.headers["Retry-After"] ?? answer.headers["retry-after"]);
        get.reject(
          graphStatusError(
            "GET",
            `${this.graphRoot}${get.target}`,
            answer.status,
            error?.code ?? "",
            error?.message ?? "",
            Number.isFinite(retryAfter) ? retryAfter : undefined,
          ),
        );
      });
    } catch (error) {
      for (const get of gets) get.reject(error);
    }
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call("POST", path, () => this.sdk.api(path).post(body));
  }

  patch(path: string, body: unknown): Promise<void> {
    return this.call("PATCH", path, () => this.sdk.api(path).patch(body));
  }

  /**
   * A PATCH sent exactly once and abandoned at `deadline` (epoch ms): no retry after 429/503/504 and no
   * resend after a dropped connection. For bodies computed from an earlier read, which only the caller
   * can recompute; the caller reads again and learns the outcome.
   */
  patchOnce(path: string, body: unknown, deadline: number): Promise<void> {
    const { retryDelaySeconds, maxRetryDelaySeconds } = this.settings;
    return this.call("PATCH", path, () =>
      this.sdk
        .api(path)
        .middlewareOptions([
          new CappedRetryOptions(retryDelaySeconds, 0, maxRetryDelaySeconds),
          new SingleAttempt(deadline),
        ])
        .patch(body),
    );
  }

  /** Reads several objects in $batch round trips of at most 20; answers in the order of `paths`. */
  async getMany(paths: string[]): Promise<BatchResponse[]> {
    const answers: BatchResponse[] = [];
    for (const chunk of batchChunks(paths)) answers.push(...(await this.batchWithRetries(chunk)));
    return answers;
  }

  /** Throttling inside a batch comes back per request: resend just those, as long as the retry budget lasts. */
  private async batchWithRetries(paths: string[]): Promise<BatchResponse[]> {
    const answers: BatchResponse[] = new Array(paths.length);
    let pending = paths.map((_path, index) => index);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const body = await this.post<unknown>(
        "/$batch",
        batchRequestBody(pending.map((index) => paths[index])),
      );
      const responses = batchResponsesInOrder(body, pending.length);
      const throttled: number[] = [];
      let pauseSeconds = 0;
      responses.forEach((response, position) => {
        const index = pending[position];
        answers[index] = response;
        if (retryableStatuses.includes(response.status)) {
          throttled.push(index);
          const retryAfter = Number(response.headers["Retry-After"] ?? response.headers["retry-after"]);
          pauseSeconds = Math.max(
            pauseSeconds,
            Number.isFinite(retryAfter) ? retryAfter : this.settings.retryDelaySeconds * 2 ** attempt,
          );
        }
      });
      if (throttled.length === 0 || attempt >= this.settings.maxRetries) break;
      pending = throttled;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(pauseSeconds, this.settings.maxRetryDelaySeconds) * 1000),
      );
    }
    return answers;
  }

  private async call<T>(method: string, path: string, send: () => Promise<T>): Promise<T> {
    const url = `${this.graphRoot}${path}`;
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      if (error.statusCode === -1) {
        // The SDK wraps what a middleware threw; our transport and sign-in messages already name everything.
        // Inside a serialized provider the SDK's `instanceof Error` fails for our errors and it keeps the
        // thrown object itself as `body`: read its message and name rather than printing "[object Object]".
        const inner = error.body as { message?: unknown; name?: unknown } | string | undefined;
        const thrown = typeof inner === "object" && inner !== null ? inner : undefined;
        const text = typeof thrown?.message === "string" ? thrown.message : String(inner ?? error.message);
        const message = text.replace(/^[A-Za-z]+Error: /, "");
        // Keep "no answer" recognisable: for a write it means the outcome is unknown, not that it failed.
        const unreachable =
          error.code === "GraphUnreachableError" || thrown?.name === "GraphUnreachableError";
        throw unreachable ? new GraphUnreachableError(message) : new Error(message);
      }
      const retryAfter = Number(error.headers?.get("Retry-After") ?? Number.NaN);
      throw graphStatusError(
        method,
        url,
        error.statusCode,
        error.code ?? "",
        error.message,
        Number.isFinite(retryAfter) ? retryAfter : undefined,
      );
    }
  }
}

export interface GraphClientTuning {
  requestTimeoutMs?: number;
  maxRetries?: number;
  retryDelaySeconds?: number;
  maxRetryDelaySeconds?: number;
}

/** A client for the stack's tenant, cloud and npsmfa:graph settings, as providers read them in configure. */
export function graphClientFor(
  config: Pick<StackConfig, "tenantId" | "cloud" | "graph">,
  tuning: GraphClientTuning = {},
): GraphClient {
  const endpoints = graphEndpointsFor(config.cloud, config.graph);
  let agent: https.Agent | undefined;
  if (config.graph.caFile) {
    let ca: string;
    try {
      ca = fs.readFileSync(config.graph.caFile, "utf8");
    } catch (error) {
      throw new Error(
        `npsmfa:graph.caFile: expected a readable PEM CA file, found ${JSON.stringify(config.graph.caFile)} ` +
          `unreadable (${(error as NodeJS.ErrnoException).code}). Fix the path or remove the setting.`,
      );
    }
    agent = new https.Agent({ ca, keepAlive: true });
  }
  const credential = credentialFor({
    tenantId: config.tenantId,
    authorityHost: endpoints.authorityHost,
    clientId: config.graph.clientId,
    clientSecret: config.graph.clientSecret,
    agent,
  });
  return new GraphClient({ endpoints, tenantId: config.tenantId, credential, agent, ...tuning });
}
