// The engine's progress: each resource's step is reported as it starts and as it ends, in the order the
// provider work really happens, so `npm run demo` can show a rollout live. A failed step is reported
// failed, its dependent never starts, and the abandoned program leaves no promise for the runtime's
// exit-time leak warning.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as runtimeState from "@pulumi/pulumi/runtime/state";
import { emptyState, Engine, ProgressEvent } from "../../engine";
import { digestSecretKey, FileValue, FileValuePair } from "./fileValue";

// Internal to the SDK (absent from its typings): what its exit-time leak warning reads.
const runtimeStore = () =>
  (
    runtimeState as unknown as { getStore(): { leakCandidates: Set<unknown>; terminated: boolean } }
  ).getStore();

const describeEvent = (event: ProgressEvent) =>
  `${event.phase} ${event.kind} ${event.name}${event.op ? ` ${event.op}` : ""}`;

describe("engine progress: each resource's step, started and ended, as it happens", function () {
  // Each command starts its own host process, as the CLI does: slow on a loaded machine.
  this.timeout(300_000);
  let engine: Engine;
  let workDir: string;
  const events: ProgressEvent[] = [];

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-progress-"));
    engine = await Engine.start({
      stack: { config: { [digestSecretKey]: "Progress-S3cret" }, secretKeys: [digestSecretKey] },
      progress: (event) => events.push(event),
    });
  });

  beforeEach(() => events.splice(0));

  after(async () => {
    await engine?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it("reports a dependent's step starting only after its dependency's ended, with each step's operation and seconds", async () => {
    const filePath = path.join(workDir, "pair.json");
    const program = () => new FileValuePair("pair", { filePath, value: "v1" });
    const { state: first } = await engine.up(emptyState(), { program });
    // The component does no provider work and is not reported; a step starts once planned, with its operation.
    assert.deepEqual(events.map(describeEvent), [
      "update started pair-source create",
      "update done pair-source create",
      "update started pair-derived create",
      "update done pair-derived create",
    ]);
    for (const event of events.filter((each) => each.kind === "done")) {
      assert.equal(typeof event.seconds, "number");
      assert.ok(event.seconds! >= 0);
    }

    events.splice(0);
    await engine.up(first, { program, refresh: true });
    const refreshes = events.filter((event) => event.phase === "refresh");
    assert.deepEqual(
      refreshes
        .filter((event) => event.kind === "done")
        .map(describeEvent)
        .sort(),
      ["refresh done pair-derived same", "refresh done pair-source same"],
    );
    assert.ok(
      events.findIndex((event) => event.phase === "update") >
        events.map((event) => event.phase).lastIndexOf("refresh"),
      "the update started before the refresh ended",
    );
    assert.deepEqual(events.filter((event) => event.phase === "update").map(describeEvent), [
      "update started pair-source same",
      "update done pair-source same",
      "update started pair-derived same",
      "update done pair-derived same",
    ]);
  });

  it("reports a failed step failed with its error, never starts its dependent, and abandons the program quietly", async () => {
    const program = () => {
      const bad = new FileValue("bad", {
        filePath: path.join(workDir, "missing", "values.json"),
        key: "bad",
        value: "b",
      });
      new FileValue("after-bad", {
        filePath: path.join(workDir, "after.json"),
        key: "after",
        value: bad.digest,
      });
    };
    await assert.rejects(engine.up(emptyState(), { program }));
    assert.deepEqual(events.map(describeEvent), ["update started bad create", "update failed bad"]);
    assert.match(events[1].error ?? "", /ENOENT/);
    // The registration waiting on `bad` never completes: unless the program is abandoned as the CLI
    // abandons it, the runtime warns "Leaving promises active" at exit (runtime/debuggable.ts).
    assert.ok(runtimeStore().leakCandidates.size > 0, "nothing was left pending: the case is not tested");
    assert.equal(runtimeStore().terminated, true, "the cancelled program's promises would be reported");
  });

  it("reports destroy's deletes, dependents first", async () => {
    const filePath = path.join(workDir, "destroyed.json");
    const { state: created } = await engine.up(emptyState(), {
      program: () => new FileValuePair("gone", { filePath, value: "v1" }),
    });
    events.splice(0);
    await engine.destroy(created);
    assert.deepEqual(events.map(describeEvent), [
      "delete started gone-derived",
      "delete done gone-derived delete",
      "delete started gone-source",
      "delete done gone-source delete",
    ]);
  });
});
