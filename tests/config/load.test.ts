import * as assert from "node:assert/strict";
import { readRawStackConfig, loadStackConfig } from "../../config/load";
import { ConfigError } from "../../config/schema";
import { buildProgram } from "../../program";
import { runProgram } from "../support/pulumiProgram";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const nps = {
  hostname: "nps01.corp.example.com",
  winrm: { url: "https://nps01.corp.example.com:5986/wsman", username: "svc", password: "Winrm-P@ss-1" },
};

describe("reading the stack's config from Pulumi", () => {
  it("reads each setting's text and which settings the stack keeps encrypted", async () => {
    const { result } = await runProgram(
      { config: { tenantId, npsServers: [nps] }, secretKeys: ["npsServers"] },
      readRawStackConfig,
    );
    assert.equal(result.values.tenantId, tenantId);
    assert.deepEqual(JSON.parse(result.values.npsServers ?? "null"), [nps]);
    assert.deepEqual(result.secretKeys, ["npsServers"]);
  });

  it("stops an invalid stack before any resource is registered", async () => {
    const { result, resources } = await runProgram(
      { config: { tenantId: "not-a-guid", npsServers: [nps] }, secretKeys: ["npsServers"] },
      () => {
        try {
          return buildProgram(loadStackConfig());
        } catch (error) {
          return error;
        }
      },
    );
    assert.ok(result instanceof ConfigError);
    assert.match(result.message, /npsmfa:tenantId: expected the Entra tenant ID/);
    assert.deepEqual(resources, []);
  });

  it("refuses a key under npsmfa: the schema does not know and a CA file that is not there", async () => {
    const withMissingCa = { ...nps, winrm: { ...nps.winrm, caFile: "no-such-dir/corp-ca.pem" } };
    const { result, resources } = await runProgram(
      {
        config: { tenantId, npsServers: [withMissingCa], npsServer: [nps], radiusTimeoutSeconds: "90" },
        secretKeys: ["npsServers"],
      },
      () => {
        try {
          return buildProgram(loadStackConfig());
        } catch (error) {
          return error;
        }
      },
    );
    assert.ok(result instanceof ConfigError, String(result));
    assert.deepEqual(
      result.problems.map((problem) => problem.split(":").slice(0, 2).join(":")),
      [
        "npsmfa:npsServer",
        "npsmfa:npsServers[0].winrm.caFile (host nps01.corp.example.com)",
        "npsmfa:radiusTimeoutSeconds",
      ],
    );
    assert.match(result.message, /did you mean "npsServers"\?/);
    assert.match(result.message, /"no-such-dir\/corp-ca\.pem", which does not exist/);
    assert.doesNotMatch(result.message, /ENOENT/);
    assert.deepEqual(resources, []);
  });
});
