// An error the program raises reaches the person as Pulumi's own program runner reports it: the runner
// (cmd/run) runs here on our real program and on a throwaway one, and our engine must say the same.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, EngineError, emptyState } from "../../engine";
import { startProjectEngine } from "../../engine/projectEngine";
import { runUnderPulumiRunner } from "../support/pulumiRunner";

const repoRoot = path.resolve(__dirname, "..", "..");
const stackFrame = /^\s+at .+:\d+:\d+\)?$/m;

/** What the engine's operation failed with, after its "<operation> failed:" line. */
async function engineFailure(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => assert.fail("the operation succeeded"),
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof EngineError, String(error));
  const [first, ...rest] = error.message.split("\n");
  assert.match(first, /^(preview|up) failed:$/);
  return rest.join("\n");
}

describe("engine: a program's own error, as Pulumi's program runner reports it", function () {
  this.timeout(180_000);
  let scratch: string;
  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-program-error-"));
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ main: "index.js" }));
    fs.writeFileSync(path.join(scratch, "index.js"), 'throw new Error("the program broke");\n');
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("a bad stack config: the problem list once, no stack frame, word for word what the runner logs", async () => {
    const config = { cloud: "mars", tenantId: "not-a-guid" };
    const [runner, engineText] = await Promise.all([
      runUnderPulumiRunner(repoRoot, { "npsmfa:cloud": config.cloud, "npsmfa:tenantId": config.tenantId }),
      startProjectEngine({ config }).then(async (engine) => {
        try {
          return await engineFailure(engine.preview(emptyState()));
        } finally {
          await engine.stop();
        }
      }),
    ]);
    assert.equal(runner.errors.length, 1, runner.stderr);
    assert.equal(engineText, runner.errors[0]);
    assert.match(
      engineText,
      /^The stack configuration has \d+ problems:\n {2}- npsmfa:cloud: expected one of/,
    );
    assert.equal(engineText.split("npsmfa:cloud:").length, 2, "the problem list is printed more than once");
    assert.doesNotMatch(engineText, stackFrame);
  });

  it("any other error: 'failed with an unhandled exception' and its stack, as the runner logs it", async () => {
    const [runner, engineText] = await Promise.all([
      runUnderPulumiRunner(scratch, {}),
      Engine.start({
        stack: { config: {} },
        projectDir: scratch,
        program: () => {
          throw new Error("the program broke");
        },
      }).then(async (engine) => {
        try {
          return await engineFailure(engine.up(emptyState()));
        } finally {
          await engine.stop();
        }
      }),
    ]);
    const opening = `Running program '${path.join(scratch, "index.js")}' failed with an unhandled exception:\nError: the program broke`;
    assert.equal(runner.errors.length, 1, runner.stderr);
    assert.ok(runner.errors[0].startsWith(opening), runner.errors[0]);
    assert.ok(engineText.startsWith(opening), engineText);
    assert.match(engineText, stackFrame);
  });
});
