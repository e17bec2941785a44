// Pulumi serializes each dynamic provider into state (__provider): it must serialize at all, carry no
// secret, and run as the dynamic-provider host runs it: loaded from text by plain node (no ts-node, no
// mocha globals), then configured from the stack's config.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
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
  it("each provider's __provider is free of the WinRM password, and loads and configures under plain node", async () => {
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
      // The thin seam (providers/seam.ts): the implementation is loaded from the project at run time.
      assert.ok(!(text as string).includes("Prelude"), `${resource.type}: the host scripts were serialized`);
      assert.ok(
        Buffer.byteLength(text as string) <= 8192,
        `${resource.type}: ${Buffer.byteLength(text as string)} bytes`,
      );
    }

    const loaded = loadAsTheHostDoes(
      resources.map((resource) => String(resource.inputs.__provider)),
      {
        "npsmfa:tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "npsmfa:npsServers": JSON.stringify([{ hostname: "nps01.lab.test", winrm: { ...winrm, password } }]),
      },
    );
    assert.deepEqual(
      loaded,
      resources.map(() => ["check", "configure", "create", "delete", "diff", "read", "update"]),
    );
  });
});

/** Which ResourceProvider methods each provider has, after loading its text in a plain node process and configuring it. */
function loadAsTheHostDoes(providers: string[], config: Record<string, string>): string[][] {
  const script = `
    const requireFromString = require("require-from-string");
    const { providers, config } = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
    const methods = ["check", "configure", "create", "delete", "diff", "read", "update"];
    (async () => {
      const found = [];
      for (const text of providers) {
        const provider = requireFromString(text).handler();
        await provider.configure({ config: { get: (key) => config[key], require: (key) => config[key] } });
        found.push(methods.filter((name) => typeof provider[name] === "function"));
      }
      process.stdout.write(JSON.stringify(found));
    })().catch((error) => { console.error(error.stack || String(error)); process.exit(1); });`;
  const output = execFileSync(process.execPath, ["-e", script], {
    cwd: path.resolve(__dirname, "..", ".."),
    input: JSON.stringify({ providers, config }),
    encoding: "utf8",
  });
  return JSON.parse(output) as string[][];
}
