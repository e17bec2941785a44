import * as assert from "node:assert/strict";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import {
  diffServicePrincipal,
  driftedServicePrincipalProperties,
  ServicePrincipalEnabledOutputs,
  ServicePrincipalEnabledProvider,
} from "../../providers/entra";
import { Lab, startLab } from "./lab";

const declared = [
  { appId: mfaClientAppId, displayName: "Azure Multi-Factor Auth Client", accountEnabled: true },
  { appId: mfaConnectorAppId, displayName: "Azure Multi-Factor Auth Connector", accountEnabled: true },
];

describe("ServicePrincipalEnabled against the Graph emulator", () => {
  let lab: Lab;
  let provider: ServicePrincipalEnabledProvider;

  beforeEach(async () => {
    lab = await startLab({ seed: "article" });
    provider = new ServicePrincipalEnabledProvider();
    await provider.configure({ config: lab.config } as never);
  });
  afterEach(() => lab.stop());

  it("reports the article's disabled Client and Connector, names accountEnabled, and enables both", async () => {
    for (const inputs of declared) {
      const read = await provider.read(inputs.appId, { ...inputs, servicePrincipalId: "", exists: true });
      assert.equal(read.props.accountEnabled, false, `${inputs.displayName} should read as disabled`);
      assert.equal(
        read.inputs.accountEnabled,
        false,
        "read's inputs carry the live value for the CLI's diff",
      );
      assert.deepEqual(driftedServicePrincipalProperties(read.props, inputs), ["accountEnabled"]);
      assert.equal(diffServicePrincipal(read.props, inputs).changes, true);
    }
    const before = lab.emulator.servicePrincipals();
    for (const inputs of declared) await provider.update(inputs.appId, {}, inputs);
    const after = lab.emulator.servicePrincipals();
    assert.equal(after.length, 2);
    for (const sp of after) {
      assert.equal(sp.accountEnabled, true);
      const original = before.find((entry) => entry.id === sp.id)!;
      assert.deepEqual(
        { ...sp, accountEnabled: original.accountEnabled },
        original,
        "only accountEnabled may change",
      );
    }
    const patches = lab.emulator.requests().filter((request) => request.method === "PATCH");
    assert.equal(patches.length, 2);
    for (const inputs of declared) {
      const read = await provider.read(inputs.appId, { ...inputs, servicePrincipalId: "", exists: true });
      assert.equal(diffServicePrincipal(read.props, inputs).changes, false, "no drift left");
    }
  });

  it("creates a missing service principal, enabled", async () => {
    await lab.emulator.seed("missing-connector");
    const connector = declared[1];
    const read = await provider.read(connector.appId, { ...connector, servicePrincipalId: "", exists: true });
    assert.equal(read.props.exists, false);
    assert.ok(driftedServicePrincipalProperties(read.props, connector).includes("exists"));
    const created = await provider.create(connector);
    assert.equal(created.id, connector.appId);
    const sp = lab.emulator.servicePrincipal(connector.appId);
    assert.ok(sp, "the Connector service principal exists");
    assert.equal(sp.accountEnabled, true);
    assert.equal(created.outs.servicePrincipalId, sp.id);
  });

  it("refuses to declare a first-party service principal disabled", async () => {
    const result = await provider.check({}, { ...declared[0], accountEnabled: false });
    assert.equal(result.failures?.[0]?.property, "accountEnabled");
    assert.match(result.failures![0].reason, /never disables.*ESTS_TOKEN_ERROR/);
  });

  it("destroy forgets: both service principals stay enabled", async () => {
    for (const inputs of declared) await provider.create(inputs);
    lab.emulator.clearRequests();
    for (const inputs of declared) {
      const outs: ServicePrincipalEnabledOutputs = { ...inputs, servicePrincipalId: "x", exists: true };
      await provider.delete(inputs.appId, outs);
    }
    assert.deepEqual(lab.emulator.requests(), [], "delete sends nothing to Graph");
    assert.deepEqual(
      lab.emulator.servicePrincipals().map((sp) => [sp.appId, sp.accountEnabled]),
      declared.map((inputs) => [inputs.appId, true]),
    );
  });
});
