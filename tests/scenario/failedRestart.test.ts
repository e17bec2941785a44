// A failed IAS restart in the middle of a rollout, through the strict engine: `up` must end with that
// server's error (not hang, as it did when a dependent waited on the failed restart), and the servers
// after it must be left untouched, since each server's work starts after the previous server's restart.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { RunningLab } from "../../lab/cli";
import { iasRestarts, readHostState, updateHostState } from "../../lab/windows/hostState";
import { Engine, EngineError } from "../../engine";
import { documentedBlock } from "./documentedCommands";
import { PulumiCli } from "./pulumiCli";
import { ScenarioLab, startScenarioLab, stopScenarioLab } from "./support";

describe("scenario: IAS fails to restart on the second of three NPS servers", function () {
  this.timeout(600_000);
  let scenario: ScenarioLab;
  let lab: RunningLab;
  let engine: Engine;

  before(async () => {
    scenario = await startScenarioLab("failed-restart", { nps: 3, vpn: 0, seed: "article" });
    ({ lab, engine } = scenario);
  });

  after(async () => {
    await stopScenarioLab(scenario);
  });

  it("the README's repair fails with nps02's error, nps01 is repaired, nps03 is not touched", async () => {
    const file = (name: string) => lab.description.hosts.find((host) => host.name === name)!.stateFile;
    updateHostState(file("nps02"), (host) => {
      host.services.IAS.faults = { failsToStart: true };
    });
    const nps03Before = fs.readFileSync(file("nps03"), "utf8");
    const cli = new PulumiCli(engine);
    const [preview, up] = documentedBlock("README.md", "repair");
    await cli.run(preview);
    const failure = await cli.run(up).then(
      () => assert.fail("up succeeded although IAS does not start on nps02"),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EngineError);
    assert.match(
      failure.message,
      /nps02-ias-restart: dynamic-provider host: nps02[^\n]*IasRestart\.ps1 failed/,
    );
    assert.doesNotMatch(failure.message, /nps01-ias-restart:/);
    assert.equal(iasRestarts(readHostState(file("nps01"))).length, 1, "nps01 was not repaired first");
    assert.equal(fs.readFileSync(file("nps03"), "utf8"), nps03Before, "nps03 was touched");
    const saved = cli.state.resources.map((resource) => resource.name);
    assert.ok(saved.includes("nps01-ias-restart") && saved.includes("nps02-extension"));
    assert.ok(!saved.includes("nps02-ias-restart") && !saved.some((name) => name.startsWith("nps03-")));
  });
});
