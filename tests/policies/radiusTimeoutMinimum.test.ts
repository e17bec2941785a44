import * as assert from "node:assert/strict";
import { effectiveMinimumSeconds, radiusTimeoutMinimum } from "../../policies/rules/radiusTimeoutMinimum";
import { extensionSettings, radiusTimeout, unknownString, validateResource } from "./fakes";

const vpn01 = "vpn01.corp.example.com";

describe("policy radius-timeout-minimum", () => {
  it("is mandatory, and its schema refuses a minimum below 60 s", () => {
    assert.equal(radiusTimeoutMinimum.enforcementLevel, "mandatory");
    const schema = radiusTimeoutMinimum.configSchema?.properties.minimumSeconds;
    assert.deepEqual(schema && typeof schema === "object" && [schema.minimum, schema.default], [60, 60]);
  });

  it("passes a timeout of 60 s or more", async () => {
    assert.deepEqual(await validateResource(radiusTimeoutMinimum, radiusTimeout(vpn01, 60)), []);
    assert.deepEqual(await validateResource(radiusTimeoutMinimum, radiusTimeout(vpn01, 120)), []);
  });

  it("reports the RRAS default of 5 s, naming the VPN and NPS servers", async () => {
    const violations = await validateResource(
      radiusTimeoutMinimum,
      radiusTimeout(vpn01, 5, ["nps01.corp.example.com", "nps02.corp.example.com"]),
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /RADIUS timeout is 5 s for nps01\.corp\.example\.com, nps02/);
    assert.match(violations[0].message, /below the minimum of 60 s/);
    assert.match(violations[0].message, /host vpn01\.corp\.example\.com/);
    assert.match(violations[0].message, /the port used for this connection was closed.*20227/);
    assert.match(
      violations[0].message,
      /Fix: set vpnServers\[\]\.radiusTimeoutSeconds for vpn01\.corp\.example\.com/,
    );
  });

  it("names the remote server groups of an NPS server that forwards", async () => {
    const violations = await validateResource(
      radiusTimeoutMinimum,
      radiusTimeout("nps01.corp.example.com", 30, []),
    );
    assert.match(violations[0].message, /RADIUS timeout is 30 s for its remote RADIUS server groups/);
  });

  it("honours a configured minimum above 60 s", async () => {
    const violations = await validateResource(radiusTimeoutMinimum, radiusTimeout(vpn01, 90), {
      minimumSeconds: 120,
    });
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /below the minimum of 120 s/);
  });

  it("clamps a configured minimum below 60 s to 60 s", async () => {
    assert.equal(effectiveMinimumSeconds({ minimumSeconds: 30 }), 60);
    const violations = await validateResource(radiusTimeoutMinimum, radiusTimeout(vpn01, 45), {
      minimumSeconds: 30,
    });
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /below the minimum of 60 s/);
  });

  it("leaves a timeout unknown during preview, and other resource types, alone", async () => {
    assert.deepEqual(await validateResource(radiusTimeoutMinimum, radiusTimeout(vpn01, unknownString)), []);
    assert.deepEqual(await validateResource(radiusTimeoutMinimum, extensionSettings(vpn01, {})), []);
  });
});
