import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { readProviderConfig, winrmEndpointFor } from "../../config/providerConfig";
import { parseStackConfig } from "../../config/schema";

const settings: Record<string, string> = {
  "npsmfa:tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
  "npsmfa:npsServers": JSON.stringify([
    {
      hostname: "NPS01.corp.example.com",
      winrm: { url: "https://nps01:5986/wsman", username: "u", password: "pw-1" },
    },
  ]),
  "npsmfa:vpnServers": JSON.stringify([
    {
      hostname: "vpn01.corp.example.com",
      winrm: { url: "https://vpn01:5986/wsman", auth: "basic", username: "u", password: "pw-2" },
      npsServers: ["NPS01.corp.example.com"],
    },
  ]),
};
const source = { get: (key: string) => settings[key] };

describe("provider-side config", () => {
  it("reads what the program validated, with the schema's defaults", () => {
    const validated = parseStackConfig({
      values: {
        tenantId: settings["npsmfa:tenantId"],
        npsServers: settings["npsmfa:npsServers"],
        vpnServers: settings["npsmfa:vpnServers"],
      },
      secretKeys: ["npsServers", "vpnServers"],
    });
    assert.deepEqual(readProviderConfig(source), validated);
  });

  it("finds a host's WinRM endpoint whatever the case of its name, and names a host it cannot find", () => {
    const config = readProviderConfig(source);
    assert.equal(winrmEndpointFor(config, "nps01.CORP.example.com").password, "pw-1");
    assert.equal(winrmEndpointFor(config, "vpn01.corp.example.com").auth, "basic");
    assert.throws(
      () => winrmEndpointFor(config, "nps09.corp.example.com"),
      /^Error: nps09\.corp\.example\.com: no WinRM endpoint/,
    );
  });

  it("can be serialized into a dynamic provider, as Pulumi does with provider code", async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => readProviderConfig(source));
    assert.match(serialized.text, /readProviderConfig/);
    assert.doesNotMatch(serialized.text, /safeParse|zod/);
  });
});
