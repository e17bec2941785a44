// Issue 7's end-to-end proof: the lab started as `npm run lab` starts it, the stack config a person gets
// from it, and the real program (buildProgram(loadStackConfig())) driven through Pulumi's own
// dynamic-provider host by the strict test engine: the article's broken tenant and servers are
// previewed, repaired, kept repaired, repaired again after drift behind the tool's back, and destroy
// forgets without breaking anything. Each phase runs a README block as written (PulumiCli).
import * as assert from "node:assert/strict";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { KeyCredential } from "../../lab/graph";
import { RunningLab } from "../../lab/cli";
import {
  articleNpsHost,
  azureMfaKey,
  iasRestarts,
  readHostState,
  updateHostState,
} from "../../lab/windows/hostState";
import { buildProgram } from "../../program";
import { loadStackConfig } from "../../config/load";
import { VpnServer } from "../../components/vpnServer";
import { Engine, EngineError, EngineState, providerKey, Step } from "../../engine";
import { labStack, labStackSettings } from "../../lab/stackFiles";
import { documentedBlock } from "./documentedCommands";
import { ChangesFound, PulumiCli } from "./pulumiCli";
import {
  foreignKeyCredential,
  labSecrets,
  resourceNamed,
  ScenarioLab,
  startScenarioLab,
  stopScenarioLab,
} from "./support";

// Steps in the order they happened depend on timing, as in the CLI: compare them sorted.
const summary = (steps: Step[]) =>
  steps
    .map(
      (step) =>
        `${step.op} ${step.name} [${step.properties.join(",")}]` +
        (step.unknown.length > 0 ? ` unknown [${step.unknown.join(",")}]` : ""),
    )
    .sort();
const sorted = (lines: string[]) => [...lines].sort();
const readme = (name: string) => documentedBlock("README.md", name);

const everyResource = [
  "tenant",
  "nps01",
  "nps02",
  "vpn01",
  "tenant-mfa-client",
  "tenant-mfa-connector",
  "vpn01-radius-timeout",
  "nps01-certificate",
  "nps01-credential",
  "nps01-extension",
  "nps01-ias-restart",
  "nps02-certificate",
  "nps01-superseded-keys",
  "nps02-credential",
  "nps02-extension",
  "nps02-ias-restart",
  "nps02-superseded-keys",
];

describe("scenario: the article's lab through Pulumi's dynamic-provider host", function () {
  this.timeout(600_000);
  let scenario: ScenarioLab;
  let lab: RunningLab;
  let engine: Engine;
  let cli: PulumiCli;
  let foreignKey: KeyCredential;
  /** Every state the engine produced, for the secrets check. */
  const states: EngineState[] = [];

  const hostFile = (name: string) => lab.description.hosts.find((host) => host.name === name)!.stateFile;
  const npsHosts = () => lab.description.hosts.filter((host) => host.role === "nps").map((host) => host.name);
  const restartsOn = (name: string) => iasRestarts(readHostState(hostFile(name))).length;
  const sp = (appId: string) => lab.graph.servicePrincipal(appId)!;
  /** Runs README lines as written; returns each command's result. */
  const run = async (lines: string[]) => {
    const results = [];
    for (const line of lines) {
      results.push(await cli.run(line));
      states.push(cli.state);
    }
    return results;
  };

  before(async () => {
    scenario = await startScenarioLab("scenario", { nps: 2, vpn: 1, seed: "article" });
    ({ lab, engine } = scenario);
    foreignKey = foreignKeyCredential("Contoso legacy NPS (registered by hand)");
    await lab.graph.changeServicePrincipal(mfaClientAppId, (client) => ({
      ...client,
      keyCredentials: [foreignKey],
    }));
    cli = new PulumiCli(engine, { labDir: scenario.labDir });
  });

  after(async () => {
    await stopScenarioLab(scenario);
  });

  it("the README's first run: preview plans every resource, up --refresh repairs the article, nothing is left", async () => {
    const lines = readme("lab-first-run");
    assert.deepEqual(
      lines.filter((line) => line.startsWith("pulumi ") && !line.startsWith("pulumi login")).slice(-3),
      [
        "pulumi preview --refresh -s lab",
        "pulumi up --refresh -s lab",
        "pulumi preview --refresh --expect-no-changes -s lab",
      ],
    );
    // The stack as Pulumi.lab.yaml has it: the README's `sh .lab/set-lab-secrets.sh` stores the secrets.
    const lab01 = labStack(lab.description);
    engine.setStackConfig({
      config: Object.fromEntries(
        Object.entries(labStackSettings(lab.description)).map(([key, value]) => [
          key.replace(/^npsmfa:/, ""),
          value,
        ]),
      ),
      secretKeys: [],
    });
    const results = await run(lines);
    assert.deepEqual(engine.stackConfig.config, lab01.config, "set-lab-secrets.sh did not store the secrets");
    assert.deepEqual([...(engine.stackConfig.secretKeys ?? [])].sort(), [...lab01.secretKeys].sort());
    const [preview, up] = results.slice(-3);
    assert.deepEqual(summary(preview.steps), sorted(everyResource.map((name) => `create ${name} []`)));
    assert.deepEqual(summary(up.steps), sorted(everyResource.map((name) => `create ${name} []`)));
    assert.equal(sp(mfaClientAppId).accountEnabled, true);
    assert.equal(sp(mfaConnectorAppId).accountEnabled, true);
    const keys = sp(mfaClientAppId).keyCredentials;
    assert.ok(
      keys.some((key) => key.keyId === foreignKey.keyId),
      "the foreign key was dropped",
    );
    for (const name of npsHosts()) {
      const host = readHostState(hostFile(name));
      const thumbprint = resourceNamed(cli.state, `${name}-certificate`).outputs.certificate as {
        thumbprint: string;
      };
      assert.equal(host.registry[azureMfaKey].CLIENT_CERT_IDENTIFIER, thumbprint.thumbprint);
      assert.equal(host.registry[azureMfaKey].CLIENT_ID, mfaClientAppId);
      assert.ok(
        keys.some((key) => key.customKeyIdentifier !== null && key.displayName?.endsWith(name)),
        `${name}: its certificate is not on the Client`,
      );
      assert.equal(restartsOn(name), 1, `${name}: IAS restarted ${restartsOn(name)} times`);
    }
    assert.deepEqual(
      readHostState(hostFile("vpn01")).remoteAccessRadius.map((entry) => entry.timeout),
      [60, 60],
    );
    const [first, second] = npsHosts().map((name) => iasRestarts(readHostState(hostFile(name)))[0]);
    assert.ok(first.startedAt! <= second.stoppedAt!, "IAS restarted on both NPS servers at once");
    // The last line, `--expect-no-changes`, passed; so does the pipeline's, with the policy pack.
    await run(readme("nightly-policy"));
  });

  it("the pipeline's nightly-policy block fails a program that declares a 30 s RADIUS timeout with the components, naming the rule", async () => {
    // A user's own program can pass settings the stack config's schema would refuse: the pack still stops it.
    const shortTimeout = () => {
      const config = loadStackConfig();
      buildProgram({ ...config, vpnServers: [] });
      for (const server of config.vpnServers)
        new VpnServer(server.hostname, { server: { ...server, radiusTimeoutSeconds: 30 } });
    };
    const pipeline = new PulumiCli(engine, { program: shortTimeout });
    pipeline.state = cli.state;
    const failure = await pipeline.runAll(readme("nightly-policy")).then(
      () => assert.fail("the policy pack let a 30 s RADIUS timeout through"),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EngineError, String(failure));
    assert.match(failure.message, /^preview failed: mandatory policy violations:/);
    assert.match(failure.message, /\[mandatory\] radius-timeout-minimum \(.*vpn01-radius-timeout\)/);
    assert.match(failure.message, /RADIUS timeout is 30 s .*below the minimum of 60 s/);
    assert.equal(pipeline.state, cli.state, "a preview changed the state");

    // An `up` with the pack stops at that resource, before its provider writes anything.
    const up = await pipeline
      .run("pulumi up --policy-pack policies --policy-pack-config policies/examples/policy-config.json")
      .then(
        () => assert.fail("the policy pack let an up with a 30 s RADIUS timeout through"),
        (error: unknown) => error,
      );
    assert.ok(up instanceof EngineError, String(up));
    assert.match(up.message, /update failed: mandatory policy violations:\n.*radius-timeout-minimum/);
    assert.deepEqual(
      readHostState(hostFile("vpn01")).remoteAccessRadius.map((entry) => entry.timeout),
      [60, 60],
    );
  });

  it("the article's drift put back behind the tool's back: the nightly check fails, listing exactly the drifted settings", async () => {
    await lab.graph.changeServicePrincipal(mfaClientAppId, (client) => ({
      ...client,
      accountEnabled: false,
      keyCredentials: [foreignKey],
    }));
    await lab.graph.changeServicePrincipal(mfaConnectorAppId, (connector) => ({
      ...connector,
      accountEnabled: false,
    }));
    for (const name of npsHosts()) {
      updateHostState(hostFile(name), (host) => {
        host.registry[azureMfaKey] = articleNpsHost(name, lab.description.tenantId).registry[azureMfaKey];
      });
    }
    updateHostState(hostFile("vpn01"), (host) =>
      host.remoteAccessRadius.forEach((entry) => (entry.timeout = 5)),
    );
    const failure = await run(readme("nightly")).then(
      () => assert.fail("the nightly check passed on a drifted estate"),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof ChangesFound);
    assert.deepEqual(
      summary(failure.changes),
      sorted([
        "update tenant-mfa-client [accountEnabled]",
        "update tenant-mfa-connector [accountEnabled]",
        "update vpn01-radius-timeout [timeoutSeconds]",
        "update nps01-credential [status]",
        "update nps01-extension [settings]",
        // The server records that IAS has not loaded its registry as it is now; the settings' new changedAt is unknown.
        "update nps01-ias-restart [restartPending,triggers] unknown [triggers]",
        // Which certificate IAS will load is known only after the restart the preview announces.
        "update nps01-superseded-keys [keepThumbprints] unknown [keepThumbprints]",
        "update nps02-credential [status]",
        "update nps02-extension [settings]",
        "update nps02-ias-restart [restartPending,triggers] unknown [triggers]",
        "update nps02-superseded-keys [keepThumbprints] unknown [keepThumbprints]",
      ]),
    );
  });

  it("the README's repair: up --refresh repairs exactly that drift, IAS restarts once more, and the nightly check passes", async () => {
    const restartsBefore = npsHosts().map(restartsOn);
    const [, up] = await run(readme("repair"));
    assert.deepEqual(
      summary(up.changes),
      sorted([
        "update tenant-mfa-client [accountEnabled]",
        "update tenant-mfa-connector [accountEnabled]",
        "update vpn01-radius-timeout [timeoutSeconds]",
        "update nps01-credential [status]",
        "update nps01-extension [settings]",
        "update nps01-ias-restart [restartPending,triggers]",
        "update nps02-credential [status]",
        "update nps02-extension [settings]",
        "update nps02-ias-restart [restartPending,triggers]",
      ]),
    );
    assert.deepEqual(
      npsHosts().map(restartsOn),
      restartsBefore.map((count) => count + 1),
      "the settings changed: IAS restarts once more on each NPS server",
    );
    assert.equal(sp(mfaClientAppId).accountEnabled, true);
    assert.equal(sp(mfaClientAppId).keyCredentials.length, 3, "foreign key plus one per NPS server");
    await run(readme("nightly"));
  });

  it("the README's lab drift: the Connector disabled and a 5 s RADIUS timeout are repaired, IAS is not restarted", async () => {
    await lab.graph.changeServicePrincipal(mfaConnectorAppId, (connector) => ({
      ...connector,
      accountEnabled: false,
    }));
    updateHostState(hostFile("vpn01"), (host) => {
      host.remoteAccessRadius[0].timeout = 5;
    });
    const restartsBefore = npsHosts().map(restartsOn);
    const [preview, up] = await run(readme("lab-drift"));
    const expected = [
      "update tenant-mfa-connector [accountEnabled]",
      "update vpn01-radius-timeout [timeoutSeconds]",
    ];
    assert.deepEqual(summary(preview.changes), expected);
    assert.deepEqual(summary(up.changes), expected);
    assert.equal(sp(mfaConnectorAppId).accountEnabled, true);
    assert.deepEqual(
      readHostState(hostFile("vpn01")).remoteAccessRadius.map((entry) => entry.timeout),
      [60, 60],
    );
    assert.deepEqual(
      npsHosts().map(restartsOn),
      restartsBefore,
      "IAS restarted for a change that needs none",
    );
  });

  it("no serialized provider and no state carries a lab password or the Graph client secret; each provider is thin", () => {
    const secrets = labSecrets(lab.description);
    const providers = states.flatMap((each) =>
      each.resources
        .filter((resource) => resource.custom)
        .flatMap((resource) => [resource.inputs[providerKey], resource.outputs[providerKey]]),
    );
    assert.ok(providers.length >= everyResource.length, "no serialized providers collected");
    for (const provider of providers) {
      assert.equal(typeof provider, "string");
      assert.ok(
        Buffer.byteLength(provider as string) <= 8192,
        `a __provider of ${Buffer.byteLength(provider as string)} bytes`,
      );
      for (const secret of secrets)
        assert.ok(!(provider as string).includes(secret), "a provider carries a secret");
    }
    for (const each of states) {
      const text = JSON.stringify(each);
      for (const secret of secrets) assert.ok(!text.includes(secret), "the state carries a secret");
    }
  });

  it("the README's destroy forgets: both service principals stay enabled, every key credential stays", async () => {
    const keysBefore = sp(mfaClientAppId)
      .keyCredentials.map((key) => key.keyId)
      .sort();
    const registryBefore = npsHosts().map((name) => readHostState(hostFile(name)).registry[azureMfaKey]);
    const [destroy] = await run(readme("lab-destroy"));
    assert.equal(destroy.steps.length, everyResource.length);
    assert.deepEqual(cli.state.resources, []);
    assert.equal(sp(mfaClientAppId).accountEnabled, true);
    assert.equal(sp(mfaConnectorAppId).accountEnabled, true);
    assert.deepEqual(
      sp(mfaClientAppId)
        .keyCredentials.map((key) => key.keyId)
        .sort(),
      keysBefore,
    );
    assert.ok(keysBefore.includes(foreignKey.keyId));
    assert.deepEqual(
      npsHosts().map((name) => readHostState(hostFile(name)).registry[azureMfaKey]),
      registryBefore,
      "destroy removed the extension's settings",
    );
  });
});
