// Writing a servicePrincipal's keyCredentials when other writers may be doing the same.
//
// Graph offers no concurrency control here: PATCH replaces the whole collection, the documented request
// headers are Authorization and Content-Type only (no If-Match), and addKey/removeKey need a proof signed
// by a key already on the service principal, which a first NPS server does not have (Microsoft Graph
// v1.0: "Update servicePrincipal", "servicePrincipal: addKey"). So a write computed from a read can
// drop keys that landed after that read. What a writer can do, and this module does:
// - send each write once, within `writeWindowMs` of the read it was computed from, and abandon it then:
//   never resend that body (no retry on 429/503/504, no resend after a dropped connection). Throttled
//   or lost, it reads again and merges again;
// - after a write of its own, report success only from a read that starts `writeWindowMs + marginMs`
//   after the write ended: by then every write based on a read older than ours has landed or been
//   abandoned, so a key still there stays there (short of a writer that does not merge).
import type { GraphClient } from "../../remote/graph/client";
import { GraphRequestError } from "../../remote/graph/errors";
import { GraphUnreachableError } from "../../remote/graph/transport";
import type { GraphKeyCredential } from "./keyCredentials";
import { sameKeyIds } from "./keyCredentials";
import { readKeyCredentials, writeKeyCredentialsOnce } from "./servicePrincipals";

export interface KeyWriteOptions {
  /** Writes (sent or refused) before giving up; default 16. */
  maxWrites?: number;
  /** How long after its read a write may still land; default 10 000 ms. */
  writeWindowMs?: number;
  /** Added to the window for clocks and Graph's own processing; default 2000 ms. */
  marginMs?: number;
  /** Longest pause after a 429/503 (Retry-After is honoured up to this); default 30 000 ms. */
  maxPauseMs?: number;
}

/** How each write went, so a failure can say what actually happened. */
export interface KeyWriteHistory {
  written: number;
  throttled: number;
  unavailable: number;
  unanswered: number;
  /** Times our write was seen undone by another writer's. */
  undone: number;
}

export interface KeyWriteResult {
  keys: GraphKeyCredential[];
  history: KeyWriteHistory;
}

type WriteOutcome =
  { kind: "written" } | { kind: "refused"; status: number; pauseMs: number } | { kind: "unknown" };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function writeOnce(
  graph: GraphClient,
  servicePrincipalId: string,
  keys: GraphKeyCredential[],
  deadline: number,
  options: Required<KeyWriteOptions>,
  writes: number,
): Promise<WriteOutcome> {
  try {
    await writeKeyCredentialsOnce(graph, servicePrincipalId, keys, deadline);
    return { kind: "written" };
  } catch (error) {
    if (error instanceof GraphUnreachableError) return { kind: "unknown" };
    if (error instanceof GraphRequestError && [429, 503, 504].includes(error.status)) {
      // Graph did not carry out a throttled or refused request (Microsoft Graph throttling guidance).
      const backoff = 500 * 2 ** Math.min(writes, 6);
      const pauseMs = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : backoff;
      return { kind: "refused", status: error.status, pauseMs: Math.min(pauseMs, options.maxPauseMs) };
    }
    throw error;
  }
}

/** The end of the error when the writes ran out: what actually happened to them. */
export function keyWriteFailureCause(history: KeyWriteHistory, writes: number): string {
  const causes: string[] = [];
  if (history.undone > 0) {
    causes.push(
      `${history.undone} time${history.undone === 1 ? "" : "s"} a write that landed was undone by another ` +
        "writer's (other npsmfa runs racing, or a tool that replaces keyCredentials without merging)",
    );
  }
  if (history.throttled > 0) causes.push(`${history.throttled} refused by Graph throttling (429)`);
  if (history.unavailable > 0) {
    causes.push(`${history.unavailable} refused as unavailable (503/504), so not applied`);
  }
  if (history.unanswered > 0) {
    causes.push(`${history.unanswered} without an answer (connection dropped or timed out; outcome unknown)`);
  }
  const advice =
    history.undone > 0 && history.undone >= history.throttled + history.unavailable
      ? "Stop the other writer (or run one at a time) and run again."
      : "Graph kept refusing the writes: run again in a few minutes.";
  return `after ${writes} write${writes === 1 ? "" : "s"}: ${causes.join("; ") || "no write was accepted"}. ${advice}`;
}

/**
 * Makes the collection what `next` wants (a fixed point: `next(keys)` has the same keyIds as `keys`),
 * merging again after every read, and returns once that state has outlived every older write.
 * `subject` starts the error when it cannot: the host, the certificate and the service principal.
 */
export async function writeKeyCredentialsSafely(
  graph: GraphClient,
  servicePrincipalId: string,
  next: (live: GraphKeyCredential[]) => GraphKeyCredential[],
  subject: string,
  settings: KeyWriteOptions = {},
): Promise<KeyWriteResult> {
  const options: Required<KeyWriteOptions> = {
    maxWrites: 16,
    writeWindowMs: 10_000,
    marginMs: 2_000,
    maxPauseMs: 30_000,
    ...settings,
  };
  const history: KeyWriteHistory = { written: 0, throttled: 0, unavailable: 0, unanswered: 0, undone: 0 };
  // Once a write of ours may have landed, only a read that starts after this can confirm anything.
  let confirmAt = 0;
  let pauseMs = 0;
  let lastWrittenIds: string[] = [];
  let lastWriteMs = 100;
  for (let writes = 0; ;) {
    await sleep(Math.max(pauseMs, confirmAt - Date.now()));
    pauseMs = 0;
    const readAt = Date.now();
    const live = await readKeyCredentials(graph, servicePrincipalId);
    const wanted = next(live);
    if (sameKeyIds(live, wanted)) return { keys: live, history };
    const liveIds = new Set(live.map((key) => key.keyId.toLowerCase()));
    if (lastWrittenIds.some((id) => !liveIds.has(id))) {
      // Another writer undid ours: pause a random while, scaled to how long a write takes, then read
      // afresh, so writers that collide stop colliding.
      history.undone++;
      lastWrittenIds = [];
      pauseMs = Math.random() * lastWriteMs * 2 ** Math.min(history.undone, 4);
      continue;
    }
    if (writes >= options.maxWrites) {
      throw new Error(
        `${subject}: expected it registered and kept, found ${keyWriteFailureCause(history, writes)}`,
      );
    }
    writes++;
    const sentAt = Date.now();
    const deadline = readAt + options.writeWindowMs;
    const outcome = await writeOnce(graph, servicePrincipalId, wanted, deadline, options, writes);
    if (outcome.kind === "refused") {
      if (outcome.status === 429) history.throttled++;
      else history.unavailable++;
      pauseMs = outcome.pauseMs;
      continue;
    }
    lastWriteMs = Math.max(100, Date.now() - sentAt);
    // Only an acknowledged write tells us which keys are ours to miss later.
    lastWrittenIds =
      outcome.kind === "written"
        ? wanted.map((key) => key.keyId.toLowerCase()).filter((id) => !liveIds.has(id))
        : [];
    if (outcome.kind === "written") history.written++;
    else history.unanswered++;
    // An unanswered write may still land until its deadline; an answered one landed by now.
    const landedBy = outcome.kind === "written" ? Date.now() : deadline;
    confirmAt = Math.max(confirmAt, landedBy + options.writeWindowMs + options.marginMs);
  }
}
