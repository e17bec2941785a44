// Our local engine, proved on a test-only file-backed dynamic resource driven through Pulumi's real
// dynamic-provider host: up, preview, refresh and destroy behave as the CLI's do.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { emptyState, Engine, EngineError, EngineState, providerKey, Step } from "../../engine";
import { digestSecretKey, FileValue, fileValueDigest, FileValuePair } from "./fileValue";

const digestSecret = "Digest-S3cret-7f1c";

describe("engine: a program driven through Pulumi's dynamic-provider host", function () {
  // Each command starts its own host process, as the CLI does: slow on a loaded machine.
  this.timeout(300_000);
  let engine: Engine;
  let workDir: string;
  let fileCount = 0;

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-engine-"));
    engine = await Engine.start({
      stack: { config: { [digestSecretKey]: digestSecret }, secretKeys: [digestSecretKey] },
    });
  });

  after(async () => {
    await engine?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  function newFile(): string {
    fileCount += 1;
    return path.join(workDir, `values-${fileCount}.json`);
  }

  const pair = (filePath: string, value: string) => () => new FileValuePair("pair", { filePath, value });
  const readFile = (filePath: string): Record<string, string> =>
    JSON.parse(fs.readFileSync(filePath, "utf8"));
  const editFile = (filePath: string, key: string, value: string) =>
    fs.writeFileSync(filePath, JSON.stringify({ ...readFile(filePath), [key]: value }));
  const summary = (steps: Step[]) =>
    steps.map((step) => `${step.op} ${step.name} [${step.properties.join(",")}]`);
  const resource = (state: EngineState, name: string) =>
    state.resources.find((entry) => entry.name === name)!;

  it("creates every resource, and a second up of the same program changes nothing", async () => {
    const filePath = newFile();
    const first = await engine.up(emptyState(), { program: pair(filePath, "v1") });
    assert.deepEqual(summary(first.steps), [
      "create pair []",
      "create pair-source []",
      "create pair-derived []",
    ]);
    assert.equal(readFile(filePath).source, "v1");
    assert.equal(resource(first.state, "pair-source").id, `${filePath}#source`);

    const second = await engine.up(first.state, { program: pair(filePath, "v1") });
    assert.deepEqual(summary(second.steps), ["same pair []", "same pair-source []", "same pair-derived []"]);
    assert.deepEqual(second.state, first.state);
  });

  it("feeds a resource's real output, computed on the host, into another's input", async () => {
    const filePath = newFile();
    const { state } = await engine.up(emptyState(), { program: pair(filePath, "v1") });
    const source = resource(state, "pair-source");
    const derived = resource(state, "pair-derived");
    assert.equal(source.outputs.digest, fileValueDigest(digestSecret, "v1"));
    assert.equal(derived.inputs.value, source.outputs.digest);
    assert.equal(readFile(filePath).derived, source.outputs.digest);
    assert.deepEqual(derived.dependencies, [source.urn]);
    assert.equal(
      source.urn,
      "urn:pulumi:test::npsmfa::enginetest:index:FileValuePair$pulumi-nodejs:dynamic/enginetest:FileValue::pair-source",
    );
    assert.equal(source.parent, resource(state, "pair").urn);
  });

  it("hands configure the stack's secret, which stays out of the serialized provider and the state", async () => {
    const { state } = await engine.up(emptyState(), { program: pair(newFile(), "v1") });
    const source = resource(state, "pair-source");
    // The digest is keyed by the secret: configure got it, unwrapped, from the stack's config.
    assert.equal(source.outputs.digest, fileValueDigest(digestSecret, "v1"));
    const serializedProvider = String(source.inputs[providerKey]);
    assert.match(serializedProvider, /configure/);
    assert.ok(!serializedProvider.includes(digestSecret), "the serialized provider carries the secret");
    assert.ok(!JSON.stringify(state).includes(digestSecret), "the state carries the secret");
    assert.deepEqual(source.secretInputs, []);
  });

  it("previews an out-of-band edit only with refresh, then up --refresh repairs it and nothing is left", async () => {
    const filePath = newFile();
    const program = pair(filePath, "v1");
    const { state } = await engine.up(emptyState(), { program });
    editFile(filePath, "source", "tampered");

    const stale = await engine.preview(state, { program });
    assert.deepEqual(stale.changes, [], "without refresh the stored state hides the drift");

    const drift = await engine.preview(state, { program, refresh: true });
    assert.deepEqual(
      drift.changes.map((step) => [step.op, step.name, step.properties, step.unknown]),
      [
        // The drift is in outputs only (FileValue's read returns no inputs), and the CLI lists the inputs
        // that differ (pkg/backend/display/rows.go, getDiffInfo: old inputs against new): none.
        ["update", "pair-source", [], []],
        // Its input is the source's digest, unknown until the source is updated: shown as a possible change.
        ["update", "pair-derived", ["value"], ["value"]],
      ],
    );
    // Values, not only names: what was read live against what is declared, as the CLI's step events carry them.
    const [source] = drift.changes;
    assert.equal(source.old?.outputs.value, "tampered");
    assert.equal(source.new?.inputs.value, "v1");
    assert.ok(!(providerKey in (source.new?.inputs ?? {})), "the serialized provider is shown");
    assert.equal(readFile(filePath).source, "tampered", "a preview writes nothing");

    const repaired = await engine.up(state, { program, refresh: true });
    assert.deepEqual(summary(repaired.steps), [
      "same pair []",
      "update pair-source []",
      "same pair-derived []",
    ]);
    assert.equal(readFile(filePath).source, "v1");

    const after = await engine.preview(repaired.state, { program, refresh: true });
    assert.deepEqual(after.changes, []);
  });

  it("updates a resource whose desired value changed, and its dependent through the new output", async () => {
    const filePath = newFile();
    const { state } = await engine.up(emptyState(), { program: pair(filePath, "v1") });
    const { steps, state: updated } = await engine.up(state, { program: pair(filePath, "v2") });
    assert.deepEqual(summary(steps), [
      "same pair []",
      "update pair-source [value]",
      "update pair-derived [value]",
    ]);
    assert.equal(readFile(filePath).derived, fileValueDigest(digestSecret, "v2"));
    assert.equal(resource(updated, "pair-derived").outputs.value, fileValueDigest(digestSecret, "v2"));
  });

  it("replaces a resource when its diff says so: the new entry is written, then the old one removed", async () => {
    const filePath = newFile();
    const single = (key: string) => () => new FileValue("single", { filePath, key, value: "v1" });
    const { state } = await engine.up(emptyState(), { program: single("first") });
    const { steps } = await engine.up(state, { program: single("second") });
    assert.deepEqual(
      steps.map((step) => [step.op, step.name, step.properties, step.replaces]),
      [["replace", "single", ["key"], ["key"]]],
    );
    assert.deepEqual(readFile(filePath), { second: "v1" });
  });

  it("deletes what the program stopped registering, and destroy deletes the rest dependents first", async () => {
    const filePath = newFile();
    const { state } = await engine.up(emptyState(), { program: pair(filePath, "v1") });
    const smaller = await engine.up(state, {
      program: () => new FileValue("single", { filePath, key: "single", value: "s" }),
    });
    assert.deepEqual(summary(smaller.steps), [
      "create single []",
      "delete pair-derived []",
      "delete pair-source []",
      "delete pair []",
    ]);
    assert.deepEqual(readFile(filePath), { single: "s" });

    const destroyed = await engine.destroy(smaller.state);
    assert.deepEqual(summary(destroyed.steps), ["delete single []"]);
    assert.deepEqual(destroyed.state, emptyState());
    assert.deepEqual(readFile(filePath), {});
  });

  it("refresh records live values and drops a resource deleted out of band", async () => {
    const filePath = newFile();
    const { state } = await engine.up(emptyState(), { program: pair(filePath, "v1") });
    fs.writeFileSync(filePath, JSON.stringify({ source: "edited" }));
    const refreshed = await engine.refresh(state);
    assert.deepEqual(summary(refreshed.steps), [
      "same pair []",
      "update pair-source [digest,value]",
      "delete pair-derived []",
    ]);
    assert.equal(resource(refreshed.state, "pair-source").outputs.value, "edited");
    assert.equal(refreshed.state.resources.length, 2);
  });

  it("fails up naming the resource when a provider call fails, keeping what was done", async () => {
    const filePath = newFile();
    const program = () => {
      new FileValue("good", { filePath, key: "good", value: "g" });
      new FileValue("bad", {
        filePath: path.join(workDir, "missing", "values.json"),
        key: "bad",
        value: "b",
      });
    };
    const failure = await engine.up(emptyState(), { program }).then(
      () => assert.fail("up succeeded"),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EngineError);
    assert.match(
      failure.message,
      /pulumi-nodejs:dynamic\/enginetest:FileValue::bad: dynamic-provider host: ENOENT/,
    );
    assert.deepEqual(
      failure.state.resources.map((entry) => entry.name),
      ["good"],
    );
  });

  it("fails up with the SDK's error when a provider captures something that cannot be serialized", async () => {
    const stringify = JSON.stringify.bind(JSON);
    const provider: pulumi.dynamic.ResourceProvider = {
      create: async (inputs) => ({ id: stringify(inputs) }),
    };
    class Unserializable extends pulumi.dynamic.Resource {
      constructor(name: string) {
        super(provider, name, {}, undefined, "enginetest", "Unserializable");
      }
    }
    const program = () => new Unserializable("unserializable");
    await assert.rejects(engine.up(emptyState(), { program }), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.match(error.message, /error serializing property "__provider"[\s\S]*could not be serialized/);
      assert.deepEqual(error.state.resources, []);
      return true;
    });
  });

  it("refresh configures the provider from the config saved by the last up; up from the current config", async () => {
    const filePath = newFile();
    const original = engine.stackConfig;
    const { state } = await engine.up(emptyState(), { program: pair(filePath, "v1") });
    engine.setStackConfig({ config: { [digestSecretKey]: "Rotated-S3cret" }, secretKeys: [digestSecretKey] });
    try {
      const refreshed = await engine.refresh(state);
      assert.equal(
        resource(refreshed.state, "pair-source").outputs.digest,
        fileValueDigest(digestSecret, "v1"),
      );
      const updated = await engine.up(refreshed.state, { program: pair(filePath, "v2") });
      assert.equal(
        resource(updated.state, "pair-source").outputs.digest,
        fileValueDigest("Rotated-S3cret", "v2"),
      );
      assert.ok(
        !JSON.stringify(updated.state).includes("Rotated-S3cret"),
        "the saved config holds the secret in clear",
      );
    } finally {
      engine.setStackConfig(original);
    }
  });

  it("ends up with the failure, without waiting, when a failed resource has a dependent", async () => {
    const dependentFile = newFile();
    const program = () => {
      const bad = new FileValue("bad", {
        filePath: path.join(workDir, "missing", "values.json"),
        key: "bad",
        value: "b",
      });
      new FileValue("after-bad", { filePath: dependentFile, key: "after", value: bad.digest });
    };
    await assert.rejects(engine.up(emptyState(), { program }), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.match(error.message, /FileValue::bad: dynamic-provider host: ENOENT/);
      assert.deepEqual(error.state.resources, []);
      return true;
    });
    assert.ok(!fs.existsSync(dependentFile), "the dependent ran after its dependency failed");
  });

  it("import reads with the ID alone, which Pulumi's dynamic-provider host cannot serve", async () => {
    await assert.rejects(
      engine.import(emptyState(), {
        type: "pulumi-nodejs:dynamic/enginetest:FileValue",
        name: "adopted",
        id: "x#y",
      }),
      /code must be a string, not undefined/,
    );
    const filePath = newFile();
    const program = () =>
      new FileValue("adopted", { filePath, key: "k", value: "v" }, { import: `${filePath}#k` });
    await assert.rejects(engine.up(emptyState(), { program }), /code must be a string, not undefined/);
  });
});
