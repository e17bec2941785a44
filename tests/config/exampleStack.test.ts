import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parseStackConfig, RawStackConfig } from "../../config/schema";

describe("the example stack (Pulumi.dev.yaml)", () => {
  it("is a valid stack once its passwords are set as secrets, as its comments say", () => {
    const file = yaml.load(
      fs.readFileSync(path.resolve(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8"),
    ) as {
      config: Record<string, unknown>;
    };
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(file.config)) values[key.replace(/^npsmfa:/, "")] = value;
    for (const list of ["npsServers", "vpnServers"]) {
      for (const server of values[list] as { winrm: Record<string, string> }[])
        server.winrm.password = "set-as-secret";
    }
    const raw: RawStackConfig = { values: {}, secretKeys: ["npsServers", "vpnServers"] };
    for (const [key, value] of Object.entries(values)) {
      (raw.values as Record<string, string>)[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const config = parseStackConfig(raw);
    // A copied example must not point at a real tenant: Microsoft's own tenant ID once stood here.
    assert.equal(config.tenantId, "aaaabbbb-0000-cccc-1111-dddd2222eeee", "the example names a real tenant");
    assert.equal(config.npsServers.length, 2);
    assert.equal(config.vpnServers.length, 1);
    assert.deepEqual(
      config.vpnServers[0].npsServers,
      config.npsServers.map((server) => server.hostname),
    );
  });
});
