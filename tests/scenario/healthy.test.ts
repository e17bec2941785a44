// Adopting an estate that already works: `npm run lab --seed healthy` (service principals enabled, every
// NPS certificate registered, registry complete, timeouts long enough). A first `pulumi up` must take it
// over without touching anything: no Graph write, no host change, and above all no IAS restart, which
// would drop every VPN sign-in in flight.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { mfaClientAppId } from "../../config/clouds";
import { causeOf } from "../../doctor/diagnose";
import { labFindings } from "../doctor/labDoctor";
import { applyCause, causeUser } from "../../lab/causes";
import { RunningLab } from "../../lab/cli";
import { dialInLab } from "../../lab/radius/vpnDial";
import { hostEvents } from "../../lab/windows/eventLog";
import { azureMfaKey, iasLoadedKey, iasRestarts, readHostState } from "../../lab/windows/hostState";
import { emptyState, Engine, EngineState } from "../../engine";
import { ScenarioLab, startScenarioLab, stopScenarioLab } from "./support";

describe("scenario: adopting a healthy lab", function () {
  this.timeout(600_000);
  let scenario: ScenarioLab;
  let lab: RunningLab;
  let engine: Engine;
  let adopted: EngineState;

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
      assert.ok(
        record === undefined ||
          Object.keys(record).sort().join() === "IasLoadedExtensionVersion,IasLoadedFingerprint",
      );
    });
    const { changes } = await engine.preview(state, { refresh: true });
    assert.deepEqual(changes, []);
    adopted = state;
  });

  it("number matching: a user with codes fails on MS-CHAPv2 until up --refresh writes OVERRIDE_NUMBER_MATCHING_WITH_OTP = FALSE", async () => {
    // `npm run lab -- --seed number-matching-totp`: MS-CHAPv2, the value absent when IAS started, alice with codes.
    const context = {
      hosts: lab.description.hosts,
      graph: lab.graph,
      tenantId: lab.description.tenantId,
      radius: lab.radius,
      users: lab.description.users,
    };
    await applyCause("number-matching-totp", context);
    lab.setApprovalSeconds(1);
    const upn = causeUser(context);
    const doctor = () => labFindings(scenario.labDir, upn);
    const nps01 = lab.description.hosts.find((host) => host.name === "nps01")!.stateFile;
    const challenges = () =>
      hostEvents(nps01, [], { logName: "AuthZOptCh" }).filter((event) =>
        event.message.includes("Challenge requested in Authentication Ext for User alice"),
      ).length;

    assert.equal((await dialInLab(lab.description, "vpn01", "alice", lab.dir)).outcome, "rejected");
    assert.equal(challenges(), 1);
    const before = await doctor();
    assert.equal(causeOf(before), "number-matching-totp");
    assert.match(
      before.find((entry) => entry.id === "number-matching-totp" && entry.status === "fail")!.evidence,
      /1 x "Challenge requested in Authentication Ext" in AuthZOptCh/,
    );

    const { changes } = await engine.preview(adopted, { refresh: true });
    for (const name of ["nps01-extension", "nps02-extension"])
      assert.ok(
        changes.some((step) => step.name === name && step.properties.includes("settings")),
        `${name} is not shown as drifted`,
      );
    const restartsBefore = ["nps01", "nps02"].map(
      (name) =>
        iasRestarts(readHostState(lab.description.hosts.find((host) => host.name === name)!.stateFile))
          .length,
    );
    await engine.up(adopted, { refresh: true });
    for (const [index, name] of ["nps01", "nps02"].entries()) {
      const state = readHostState(lab.description.hosts.find((host) => host.name === name)!.stateFile);
      assert.equal(state.registry[azureMfaKey].OVERRIDE_NUMBER_MATCHING_WITH_OTP, "FALSE", name);
      assert.equal(iasRestarts(state).length, restartsBefore[index] + 1, `${name}: IAS restarted once`);
    }
    assert.equal((await dialInLab(lab.description, "vpn01", "alice", lab.dir)).outcome, "connected");
    assert.equal(challenges(), 1, "no further TOTP prompt");
    const after = await doctor();
    assert.equal(after.find((entry) => entry.id === "number-matching-totp")!.status, "pass");
    // What users met is still reported, and explained by the check that passes now.
    assert.match(
      after.find((entry) => entry.id === "recent-token-errors" && entry.where === "nps01")!.evidence,
      /1 x TOTP challenge -> number-matching-totp \(passes now\)/,
    );
  });
});
