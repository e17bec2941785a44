import * as assert from "node:assert/strict";
import { numberMatchingApproveDeny } from "../../policies/rules/numberMatchingApproveDeny";
import { extensionSettings, radiusTimeout, unknownString, validateResource } from "./fakes";

const nps01 = "nps01.corp.example.com";
const base = { TENANT_ID: "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40" };

describe("policy number-matching-approve-deny", () => {
  it("is mandatory", () => {
    assert.equal(numberMatchingApproveDeny.enforcementLevel, "mandatory");
  });

  it("passes FALSE, in any case and spacing", async () => {
    for (const value of ["FALSE", "false", " False "]) {
      const resource = extensionSettings(nps01, { ...base, OVERRIDE_NUMBER_MATCHING_WITH_OTP: value });
      assert.deepEqual(await validateResource(numberMatchingApproveDeny, resource), [], value);
    }
  });

  it("reports the value unset or TRUE on a stack that does not declare PAP, naming the host and the fix", async () => {
    const unset = await validateResource(numberMatchingApproveDeny, extensionSettings(nps01, base));
    assert.equal(unset.length, 1);
    assert.match(
      unset[0].message,
      /nps01\.corp\.example\.com leaves OVERRIDE_NUMBER_MATCHING_WITH_OTP unset/,
    );
    assert.match(unset[0].message, /Challenge requested in Authentication Ext/);
    assert.match(unset[0].message, /radiusAuthentication: pap/);
    const forced = await validateResource(
      numberMatchingApproveDeny,
      extensionSettings(
        nps01,
        { ...base, OVERRIDE_NUMBER_MATCHING_WITH_OTP: "TRUE" },
        { radiusAuthentication: "mschapv2" },
      ),
    );
    assert.match(forced[0].message, /= TRUE on a stack that does not declare PAP/);
  });

  it("leaves a stack that declares PAP alone, and settings not known until apply", async () => {
    const pap = extensionSettings(nps01, base, { radiusAuthentication: "pap" });
    assert.deepEqual(await validateResource(numberMatchingApproveDeny, pap), []);
    const computed = extensionSettings(nps01, unknownString as unknown as Record<string, string>);
    assert.deepEqual(await validateResource(numberMatchingApproveDeny, computed), []);
  });

  it("looks only at NpsExtensionSettings", async () => {
    assert.deepEqual(await validateResource(numberMatchingApproveDeny, radiusTimeout("vpn01", 60)), []);
  });
});
