// Adopting an estate that already works: `npm run lab --seed healthy` (service principals enabled, every
// NPS certificate registered, registry complete, timeouts long enough). A first `pulumi up` must take it
// over without touching anything: no Graph write, no host change, and above all no IAS restart, which
// would drop every VPN sign-in in flight.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { mfaClientAppId } from "../../config/clouds";
import { RunningLab } from "../../lab/cli";
import { iasRestarts, readHostState } from "../../lab/windows/hostState";
import { emptyState, Engine } from "../../engine";
import { ScenarioLab, startScenarioLab, stopScenarioLab } from "./support";

const iasLoadedKey = "HKLM:\\SOFTWARE\\npsmfa";

describe("scenario: adopting a healthy lab", function () {
  this.timeout(600_000);
  let scenario: ScenarioLab;
  let lab: RunningLab;
  let engine: Engine;

  before(async () => {
    scenario = await startScenarioLab("healthy", { nps: 2, vpn: 1, seed: "healthy" });
    ({ lab, engine } = scenario);
  });

  after(async () => {
    await stopScenarioLab(scenario);
  });

  it("a first up writes nothing to the tenant or the hosts and restarts no IAS, and then nothing drifts", async () => {
    const hostFiles = lab.description.hosts.map((host) => host.stateFile);
    const hostsBefore = hostFiles.map((file) => fs.readFileSync(file, "utf8"));
    const keysBefore = lab.graph
      .servicePrincipal(mfaClientAppId)!
      .keyCredentials.map((key) => key.keyId)
      .sort();
    lab.graph.clearRequests();

    const { state } = await engine.up(emptyState());

    const writes = lab.graph
      .requests()
      .filter(
        (request) =>
          request.method !== "GET" && !request.path.includes("$batch") && !request.path.includes("/oauth2/"),
      );
    assert.deepEqual(writes, [], "the tenant was written to");
    assert.deepEqual(
      lab.graph
        .servicePrincipal(mfaClientAppId)!
        .keyCredentials.map((key) => key.keyId)
        .sort(),
      keysBefore,
    );
    hostFiles.forEach((file, index) => {
      assert.equal(iasRestarts(readHostState(file)).length, 0, `${file}: IAS was restarted`);
      // Our own record of what IAS runs (remote/scripts/IasLoaded.ps1) is the one key adoption may add.
      const { [iasLoadedKey]: record, ...registry } = readHostState(file).registry;
      assert.deepEqual(registry, JSON.parse(hostsBefore[index]).registry, `${file}: the registry changed`);
      assert.ok(record === undefined || Object.keys(record).join() === "IasLoadedFingerprint");
    });
    const { changes } = await engine.preview(state, { refresh: true });
    assert.deepEqual(changes, []);
  });
});
