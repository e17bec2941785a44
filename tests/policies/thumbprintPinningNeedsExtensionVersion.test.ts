import * as assert from "node:assert/strict";
import { thumbprintPinningNeedsExtensionVersion } from "../../policies/rules/thumbprintPinningNeedsExtensionVersion";
import { extensionSettings, unknownString, validateResource } from "./fakes";

const nps01 = "nps01.corp.example.com";
const pinned = { CLIENT_CERT_IDENTIFIER: "A".repeat(40) };

describe("policy thumbprint-pinning-needs-extension-version", () => {
  it("is mandatory", () => {
    assert.equal(thumbprintPinningNeedsExtensionVersion.enforcementLevel, "mandatory");
  });

  it("reports a thumbprint pinned with a declared minimum below 1.2.2893.1, comparing versions as numbers", async () => {
    const violations = await validateResource(
      thumbprintPinningNeedsExtensionVersion,
      extensionSettings(nps01, pinned, { minimumExtensionVersion: "1.2.900.0" }),
    );
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /nps01\.corp\.example\.com pins CLIENT_CERT_IDENTIFIER by thumbprint but accepts extension 1\.2\.900\.0/,
    );
    assert.match(violations[0].message, /declare extension\.minimumVersion 1\.2\.2893\.1 or later/);
  });

  it("reports a thumbprint known only after apply too: the components pin the certificate they make", async () => {
    const computed = extensionSettings(
      nps01,
      { CLIENT_CERT_IDENTIFIER: unknownString },
      { minimumExtensionVersion: "1.0.1.40" },
    );
    assert.equal((await validateResource(thumbprintPinningNeedsExtensionVersion, computed)).length, 1);
  });

  it("passes a minimum of 1.2.2893.1 or later, no declared minimum, or no thumbprint pinned", async () => {
    for (const resource of [
      extensionSettings(nps01, pinned, { minimumExtensionVersion: "1.2.2893.1" }),
      extensionSettings(nps01, pinned, { minimumExtensionVersion: "1.3.0.0" }),
      extensionSettings(nps01, pinned),
      extensionSettings(nps01, { TENANT_ID: "t" }, { minimumExtensionVersion: "1.0.1.40" }),
    ])
      assert.deepEqual(await validateResource(thumbprintPinningNeedsExtensionVersion, resource), []);
  });
});
