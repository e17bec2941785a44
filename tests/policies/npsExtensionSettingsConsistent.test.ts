import * as assert from "node:assert/strict";
import { npsExtensionSettingsConsistent } from "../../policies/rules/npsExtensionSettingsConsistent";
import { extensionSettings, stackViolations, tenantId, unknownString } from "./fakes";

const host = (n: number) => `nps0${n}.corp.example.com`;

function settings(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TENANT_ID: tenantId,
    CLIENT_ID: "981f26a1-7f43-403b-a875-f8b09b8cd720",
    STS_URL: "https://login.microsoftonline.com/",
    REQUIRE_USER_MATCH: "TRUE",
    ...overrides,
  };
}

describe("policy nps-extension-settings-consistent", () => {
  it("is advisory", () => {
    assert.equal(npsExtensionSettingsConsistent.enforcementLevel, "advisory");
  });

  it("passes servers that differ only in CLIENT_CERT_IDENTIFIER", async () => {
    const violations = await stackViolations(npsExtensionSettingsConsistent, [
      extensionSettings(host(1), settings({ CLIENT_CERT_IDENTIFIER: "1".repeat(40) })),
      extensionSettings(host(2), settings({ CLIENT_CERT_IDENTIFIER: "2".repeat(40) })),
    ]);
    assert.deepEqual(violations, []);
  });

  it("reports the server whose setting differs from the others, and one that lacks a setting", async () => {
    const violations = await stackViolations(npsExtensionSettingsConsistent, [
      extensionSettings(host(1), settings()),
      extensionSettings(host(2), settings({ REQUIRE_USER_MATCH: "FALSE" })),
      extensionSettings(host(3), settings()),
      extensionSettings(host(4), { ...settings(), STS_URL: undefined as unknown as string }),
    ]);
    assert.equal(violations.length, 2);
    assert.match(
      violations[0].message,
      /REQUIRE_USER_MATCH is FALSE on nps02\.corp\.example\.com, not the same/,
    );
    assert.match(violations[0].message, /\(TRUE on nps01.*, nps03.*, nps04.*; FALSE on nps02.*\)/);
    assert.match(violations[0].urn ?? "", /NpsExtensionSettings::nps02-extension$/);
    assert.match(violations[1].message, /STS_URL is \(not set\) on nps04/);
  });

  it("compares the servers of each tenant on their own", async () => {
    const otherTenant = "00000000-0000-4000-8000-000000000001";
    const violations = await stackViolations(npsExtensionSettingsConsistent, [
      extensionSettings(host(1), settings()),
      extensionSettings(host(2), settings({ TENANT_ID: otherTenant, REQUIRE_USER_MATCH: "FALSE" })),
    ]);
    assert.deepEqual(violations, []);
  });

  it("honours configured per-server settings", async () => {
    const resources = [
      extensionSettings(host(1), settings({ IP_WHITELIST: "10.0.0.1" })),
      extensionSettings(host(2), settings({ IP_WHITELIST: "10.0.0.2" })),
    ];
    assert.equal((await stackViolations(npsExtensionSettingsConsistent, resources)).length, 1);
    const config = { perHostSettings: ["CLIENT_CERT_IDENTIFIER", "ip_whitelist"] };
    assert.deepEqual(await stackViolations(npsExtensionSettingsConsistent, resources, config), []);
  });

  it("leaves values a preview does not know out of the comparison", async () => {
    const violations = await stackViolations(npsExtensionSettingsConsistent, [
      extensionSettings(host(1), settings()),
      extensionSettings(host(2), settings({ REQUIRE_USER_MATCH: unknownString })),
    ]);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /REQUIRE_USER_MATCH is \(not set\) on nps02/);
  });
});
