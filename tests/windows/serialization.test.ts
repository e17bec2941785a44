// Pulumi serializes each dynamic provider into state (__provider): it must serialize at all, and carry no
// secret. Registered under mocks, the way the program registers them.
import * as assert from "node:assert/strict";
import { IasRestart, NpsCertificate, NpsExtensionSettings, RadiusTimeout } from "../../providers/windows";
import { runProgram } from "../support/pulumiProgram";

const password = "S3cret-winrm-password!";
const winrm = {
  url: "https://nps01.lab.test:5986/wsman",
  auth: "basic",
  username: "admin",
  operationTimeoutSeconds: 60,
};

describe("Windows providers serialize into state without secrets", () => {
  it("each provider's __provider is JavaScript text free of the WinRM password", async () => {
    const { resources } = await runProgram(
      {
        config: {
          tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
          npsServers: [{ hostname: "nps01.lab.test", winrm: { ...winrm, password } }],
        },
        secretKeys: ["npsServers"],
      },
      () => {
        const host = { hostname: "nps01.lab.test", winrm };
        new NpsCertificate("cert", {
          ...host,
          tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
          renewalDays: 60,
        });
        new NpsExtensionSettings("settings", { ...host, settings: { TENANT_ID: "x" } });
        new RadiusTimeout("timeout", { ...host, npsServers: ["nps01.lab.test"], timeoutSeconds: 60 });
        new IasRestart("restart", { ...host, triggers: {} });
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const types = resources.map((resource) => resource.type).sort();
    assert.deepEqual(types, [
      "pulumi-nodejs:dynamic/npsmfa:IasRestart",
      "pulumi-nodejs:dynamic/npsmfa:NpsCertificate",
      "pulumi-nodejs:dynamic/npsmfa:NpsExtensionSettings",
      "pulumi-nodejs:dynamic/npsmfa:RadiusTimeout",
    ]);
    for (const resource of resources) {
      const text = resource.inputs.__provider;
      assert.equal(typeof text, "string", `${resource.type}: no serialized provider`);
      assert.ok(
        !(text as string).includes(password),
        `${resource.type}: the serialized provider holds the password`,
      );
      assert.match(text as string, /configure/);
      assert.match(text as string, /IasRestart\.ps1|NpsCertificate/);
    }
  });
});
