// Faults a test injects into the emulator: throttling, outages, slowness, dropped connections.
// Each fault matches by target, method and path, and fires `times` times (Infinity for always).

export type FaultTarget = "graph" | "token" | "batchItem";

interface FaultMatch {
  /** graph (default): whole Graph requests; token: the authority (discovery, token endpoint); batchItem: requests inside a $batch. */
  target?: FaultTarget;
  method?: string;
  /** Tested against the path and query, e.g. /v1.0/servicePrincipals/<id>. */
  pathPattern?: RegExp;
  /** How many matching requests it hits; default 1. */
  times?: number;
}

export type GraphFault = FaultMatch &
  (
    | { kind: "status"; status: 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number }
    | { kind: "latency"; ms: number }
    | { kind: "drop" }
    // The request is carried out, then the connection is cut before the answer: the client cannot tell
    // whether it landed. Networks do this (a proxy or load balancer resetting an idle or long exchange);
    // it is why RFC 9110 section 9.2.2 tells clients not to resend non-idempotent requests (PATCH, RFC 5789
    // section 2) automatically.
    | { kind: "dropAfterApply" }
  );

export class FaultPlan {
  private faults: (GraphFault & { remaining: number })[] = [];

  add(fault: GraphFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The faults to apply to this request, in the order added; each applied one counts against `times`. */
  take(target: FaultTarget, method: string, pathAndQuery: string): GraphFault[] {
    const hits = this.faults.filter(
      (fault) =>
        fault.remaining > 0 &&
        (fault.target ?? "graph") === target &&
        (fault.method === undefined || fault.method.toUpperCase() === method) &&
        (fault.pathPattern === undefined || fault.pathPattern.test(pathAndQuery)),
    );
    // Every slowdown applies; of the faults that end a request (drop, status) only the first does.
    const ending = hits.find((fault) => fault.kind !== "latency");
    const applied = hits.filter((fault) => fault.kind === "latency" || fault === ending);
    for (const fault of applied) fault.remaining--;
    return applied;
  }
}

const statusCodes: Record<number, [string, string]> = {
  429: ["TooManyRequests", "Too many requests. Please retry after the time given in the Retry-After header."],
  500: ["InternalServerError", "An internal server error occurred."],
  502: ["BadGateway", "Bad gateway."],
  503: ["ServiceNotAvailable", "The service is temporarily unavailable. Please retry later."],
  504: ["GatewayTimeout", "The gateway timed out."],
};

export function faultError(status: number): { code: string; message: string } {
  const [code, message] = statusCodes[status] ?? ["UnknownError", "Injected fault."];
  return { code, message };
}
