// A refresh configures providers with the config saved at the last `up` (docs/engine.md): once that
// config no longer has a server, each of its resources still in state is forgotten by `read`, with one
// message, and the server is not contacted (no WinRM endpoint is even looked up).
import * as assert from "node:assert/strict";
import {
  IasRestartProvider,
  NpsCertificateProvider,
  NpsExtensionSettingsProvider,
  RadiusTimeoutProvider,
} from "../../providers/windows";

const config: Record<string, string> = {
  "npsmfa:tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
  "npsmfa:npsServers": JSON.stringify([
    {
      hostname: "nps01.corp.example",
      winrm: { url: "https://nps01.corp.example:5986/wsman", password: "x" },
    },
  ]),
};
const removed = {
  hostname: "nps02.corp.example",
  winrm: { url: "https://192.0.2.1:5986/wsman", auth: "ntlm", operationTimeoutSeconds: 5 },
};

describe("Windows providers forget a server the configured stack no longer has", () => {
  it("each read returns no id, says so once, and never reaches the server", async () => {
    const providers = [
      new NpsCertificateProvider(),
      new NpsExtensionSettingsProvider(),
      new RadiusTimeoutProvider(),
      new IasRestartProvider(),
    ];
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => warnings.push(message);
    try {
      for (const provider of providers) {
        await provider.configure({
          config: { get: (key: string) => config[key], require: (key: string) => config[key] },
        } as never);
        const result = await provider.read("nps02.corp.example", { ...removed } as never);
        assert.equal(result.id, "", `${provider.constructor.name} kept the resource`);
      }
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, providers.length);
    for (const warning of warnings)
      assert.match(warning, /nps02\.corp\.example: not in npsmfa:npsServers or npsmfa:vpnServers/);
  });
});
