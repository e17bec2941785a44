import * as assert from "node:assert/strict";
import { iasRestartsSerialised } from "../../policies/rules/iasRestartsSerialised";
import {
  extensionSettings,
  FakeResource,
  iasRestart,
  stackViolations,
  unknownString,
  validateStack,
} from "./fakes";

const host = (n: number) => `nps0${n}.corp.example.com`;

describe("policy ias-restarts-serialised", () => {
  it("is mandatory", () => {
    assert.equal(iasRestartsSerialised.enforcementLevel, "mandatory");
  });

  it("passes one restart, and a chain of three", async () => {
    assert.deepEqual(await stackViolations(iasRestartsSerialised, [iasRestart(host(1))]), []);
    const first = iasRestart(host(1));
    const second = iasRestart(host(2), first);
    const third = iasRestart(host(3), second);
    assert.deepEqual(await stackViolations(iasRestartsSerialised, [third, first, second]), []);
  });

  it("passes a restart ordered after its predecessor through another resource", async () => {
    const first = iasRestart(host(1));
    const settings: FakeResource = { ...extensionSettings(host(2), {}), dependsOn: [first] };
    const second: FakeResource = { ...iasRestart(host(2), first), dependsOn: [settings] };
    assert.deepEqual(await stackViolations(iasRestartsSerialised, [first, settings, second]), []);
  });

  it("reports two restarts that both start the rollout", async () => {
    const violations = await stackViolations(iasRestartsSerialised, [
      iasRestart(host(1)),
      iasRestart(host(2)),
    ]);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /2 IAS restarts have no previousHostname and start together: nps01.*, nps02/,
    );
    assert.match(violations[0].message, /drops every Always On VPN sign-in.*20227/);
    assert.match(violations[0].urn ?? "", /IasRestart::nps02-ias-restart$/);
  });

  it("reports two restarts right after the same one", async () => {
    const first = iasRestart(host(1));
    const violations = await stackViolations(iasRestartsSerialised, [
      first,
      iasRestart(host(2), first),
      iasRestart(host(3), first),
    ]);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /nps02.*, nps03.* all restart right after nps01/);
  });

  it("reports a previousHostname without the dependency that makes the engine wait", async () => {
    const first = iasRestart(host(1));
    const second: FakeResource = { ...iasRestart(host(2), first), dependsOn: [] };
    const violations = await stackViolations(iasRestartsSerialised, [first, second]);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /does not depend on "nps01-ias-restart", so the engine restarts both/,
    );
    assert.match(violations[0].message, /Fix: add dependsOn: \[<IasRestart of nps01\.corp\.example\.com>\]/);
  });

  it("reports a previousHostname that names no restart, and a cycle", async () => {
    const orphan = iasRestart(host(2), iasRestart("nps09.corp.example.com"));
    const first = iasRestart(host(1));
    const orphanViolations = await stackViolations(iasRestartsSerialised, [
      first,
      { ...orphan, dependsOn: [] },
    ]);
    assert.equal(orphanViolations.length, 1);
    assert.match(
      orphanViolations[0].message,
      /previousHostname nps09\.corp\.example\.com names no IasRestart/,
    );

    const a: FakeResource = iasRestart(host(2));
    const b: FakeResource = iasRestart(host(3), a);
    a.props = { ...a.props, previousHostname: host(3) };
    a.dependsOn = [b];
    const cycle = await stackViolations(iasRestartsSerialised, [first, a, b]);
    assert.equal(cycle.length, 2);
    for (const violation of cycle) assert.match(violation.message, /part of a cycle/);
  });

  it("waits for up when a preview does not know the chain yet; does not apply without restarts", async () => {
    const first = iasRestart(host(1));
    const second = iasRestart(host(2), first);
    second.props = { ...second.props, previousHostname: unknownString };
    assert.deepEqual(await stackViolations(iasRestartsSerialised, [first, second, iasRestart(host(3))]), []);
    assert.equal(await validateStack(iasRestartsSerialised, []), "not applicable");
  });
});
