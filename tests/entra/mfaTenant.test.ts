import * as assert from "node:assert/strict";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { parseStackConfig } from "../../config/schema";
import { MfaTenant } from "../../components/mfaTenant";
import { buildProgram } from "../../program";
import { ServicePrincipalEnabledProvider } from "../../providers/entra";
import { dynamicTypeToken } from "../../providers/resourceTypes";
import { runProgram } from "../support/pulumiProgram";
import { engineConfig, operatorSecret, startLab } from "./lab";

// What Pulumi's dynamic-provider host uses to load `__provider` (a dependency of @pulumi/pulumi).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): ServicePrincipalEnabledProvider;
};

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const graph = { clientId: "0a1b2c3d-0000-4000-8000-000000000001", clientSecret: "Graph-Client-S3cret-42" };

describe("MfaTenant in the program", () => {
  it("declares the MFA Client and Connector enabled, as children of one MfaTenant", async () => {
    const config = parseStackConfig({
      values: { tenantId, graph: JSON.stringify(graph), tenantOnly: "true" },
      secretKeys: ["graph"],
    });
    const { resources } = await runProgram({ config: { tenantId, graph }, secretKeys: ["graph"] }, () =>
      buildProgram(config),
    );
    assert.equal(resources.filter((resource) => resource.type === "npsmfa:index:MfaTenant").length, 1);
    const principals = resources.filter(
      (resource) => resource.type === dynamicTypeToken("ServicePrincipalEnabled"),
    );
    assert.deepEqual(
      principals.map((resource) => [
        resource.inputs.appId,
        resource.inputs.accountEnabled,
        resource.inputs.exists,
      ]),
      [
        [mfaClientAppId, true, true],
        [mfaConnectorAppId, true, true],
      ],
    );
    for (const resource of principals) {
      assert.equal(typeof resource.inputs.__provider, "string", "the provider serializes");
      assert.doesNotMatch(
        JSON.stringify(resource.inputs),
        /Graph-Client-S3cret-42/,
        "no secret in inputs or provider",
      );
      assert.ok(String(resource.inputs.__provider).length < 100_000, "the serialized provider stays small");
    }
  });

  it("exposes the Client service principal for NPS servers to depend on", async () => {
    const { result } = await runProgram(
      { config: { tenantId } },
      () => new MfaTenant("tenant", { tenantId }),
    );
    assert.equal(result.servicePrincipals.length, 2);
    assert.equal(result.servicePrincipals[0], result.client);
    const appId = await new Promise((resolve) => result.client.appId.apply(resolve));
    assert.equal(appId, mfaClientAppId);
  });

  it("runs as serialized, in plain JavaScript the way the dynamic-provider host loads it", async () => {
    const { resources } = await runProgram(
      { config: { tenantId } },
      () => new MfaTenant("tenant", { tenantId }),
    );
    const serialized = String(
      resources.find((resource) => resource.name === "tenant-mfa-client")!.inputs.__provider,
    );
    const lab = await startLab({ seed: "article" });
    try {
      const provider = requireFromString(serialized).handler();
      await provider.configure({
        config: engineConfig(lab.emulator, { clientId: lab.clientId, clientSecret: operatorSecret }),
      } as never);
      const read = await provider.read(mfaClientAppId, {
        appId: mfaClientAppId,
        displayName: "Client",
        accountEnabled: true,
        servicePrincipalId: "",
        exists: true,
      });
      assert.equal(read.props.accountEnabled, false);
      assert.equal(read.props.exists, true);
    } finally {
      await lab.stop();
    }
  });
});
