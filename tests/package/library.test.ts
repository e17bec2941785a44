// The package as a program imports it by name: what package.json exports, what the serialized provider
// requires in the host, and the estate declared from a settings object. Needs `npm run build` (npm test
// builds first): inside this repository the name resolves to the compiled dist/ (Node's self-reference).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { implementationsModule } from "../../providers/seam";
import { ConfigError } from "../../config/schema";
import { buildProgram } from "../../program";
import { parseEstateSettings } from "../../config/estateSettings";
import { runProgram } from "../support/pulumiProgram";

const repoRoot = path.resolve(__dirname, "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  main: string;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
};

const tenantId = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
// The schema asks for the password an ntlm endpoint signs in with; the providers read it from the stack.
const winrm = {
  url: "https://nps01.corp.example.com:5986/wsman",
  username: "CORP\\svc-npsmfa",
  password: "p",
};
const settings = {
  tenantId,
  npsServers: [{ hostname: "nps01.corp.example.com", winrm }],
  vpnServers: [
    {
      hostname: "vpn01.corp.example.com",
      winrm: { ...winrm, url: "https://vpn01.corp.example.com:5986/wsman" },
      npsServers: ["nps01.corp.example.com"],
    },
  ],
};

describe("the npsmfa package", () => {
  it("exports compiled JavaScript with types, and the serialized provider requires its providers entry", () => {
    const providers = manifest.exports["./providers"] as { types: string; default: string };
    assert.equal(implementationsModule, `${manifest.name}/providers`);
    for (const file of [manifest.main, manifest.types, providers.default, providers.types]) {
      assert.match(file, /^(\.\/)?dist\/.*\.(js|d\.ts)$/);
      assert.ok(fs.existsSync(path.join(repoRoot, file)), `${file} missing: run npm run build`);
    }
    assert.equal(require.resolve(implementationsModule), path.join(repoRoot, providers.default));
  });

  it("exports the components, the estate, the schema and the policy rules by name", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled entry, by the package's name
    const library = require(manifest.name) as Record<string, unknown>;
    for (const name of ["MfaTenant", "NpsServer", "npsRollout", "VpnServer", "RadiusProxy", "declareEstate"])
      assert.equal(typeof library[name], "function", name);
    assert.equal(typeof library.stackConfigJsonSchema, "function");
    const policies = library.npsmfaPolicies as { name: string }[];
    assert.equal(policies.length, 12);
    assert.ok(policies.some((policy) => policy.name === "radius-timeout-minimum"));
  });

  it("declares the estate of a settings object as the stack's program does, with the same resources", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled entry, by the package's name
    const { declareEstate } = require(manifest.name) as { declareEstate(settings: unknown): unknown };
    // The mocks answer with inputs only: an NPS server's certificate output never comes, so a proxy only.
    const proxyOnly = {
      tenantId,
      radiusProxies: [
        { hostname: "proxy01.corp.example.com", winrm: { ...winrm, url: "https://proxy01:5986/wsman" } },
      ],
    };
    const stack = { config: proxyOnly };
    const fromObject = await runProgram(stack, () => declareEstate(proxyOnly));
    const fromConfig = await runProgram(stack, () => buildProgram(parseEstateSettings(proxyOnly)));
    const names = (run: typeof fromObject) =>
      run.resources.map((resource) => `${resource.type} ${resource.name}`);
    assert.ok(
      names(fromObject).includes(
        "pulumi-nodejs:dynamic/npsmfa:RadiusTimeout proxy01.corp.example.com-forwarding-timeout",
      ),
    );
    assert.deepEqual(names(fromObject), names(fromConfig));
  });

  it("refuses a settings object with the schema's one error, naming each setting and host", () => {
    const bad = {
      ...settings,
      vpnServers: [{ ...settings.vpnServers[0], radiusTimeoutSeconds: 30 }],
      npsServer: [],
    };
    assert.throws(
      () => parseEstateSettings(bad),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 2, error.message);
        assert.match(
          error.message,
          /vpnServers\[0\]\.radiusTimeoutSeconds \(host vpn01\.corp\.example\.com\)/,
        );
        assert.match(error.message, /npsServer: .*did you mean.*npsServers/i);
        return true;
      },
    );
  });
});
