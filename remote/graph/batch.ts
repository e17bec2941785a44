// JSON $batch of reads (Graph allows at most 20 requests per batch). Built by hand: the SDK's
// BatchRequestContent wants fetch Request objects with absolute URLs for what is three fields of JSON.

export const maxBatchRequests = 20;

export interface BatchResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function batchChunks<T>(items: T[], size = maxBatchRequests): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Request ids are the paths' indexes, so answers (which may come in any order) map back. */
export function batchRequestBody(paths: string[]): {
  requests: { id: string; method: "GET"; url: string }[];
} {
  return { requests: paths.map((url, index) => ({ id: String(index), method: "GET", url })) };
}

export function batchResponsesInOrder(body: unknown, count: number): BatchResponse[] {
  const responses = (
    body as { responses?: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] }
  )?.responses;
  if (!Array.isArray(responses)) {
    throw new Error(`Microsoft Graph $batch: expected a "responses" list, found ${typeof body}`);
  }
  const ordered: BatchResponse[] = new Array(count);
  for (const response of responses) {
    const index = Number(response.id);
    if (Number.isInteger(index) && index >= 0 && index < count) {
      ordered[index] = { status: response.status, headers: response.headers ?? {}, body: response.body };
    }
  }
  const missing = ordered.findIndex((response) => response === undefined);
  if (missing !== -1 || ordered.length !== count) {
    throw new Error(`Microsoft Graph $batch: expected ${count} answers, found none for request ${missing}`);
  }
  return ordered;
}
