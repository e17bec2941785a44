// Issue 7's end-to-end proof: the lab started as `npm run lab` starts it, the stack config a person gets
// from it, and the real program (buildProgram(loadStackConfig())) driven through Pulumi's own
// dynamic-provider host: the article's broken tenant and servers are previewed, repaired, kept repaired,
// repaired again after drift behind the tool's back, and destroy forgets without breaking anything.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackConfig } from "../../config/load";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { KeyCredential } from "../../lab/graph";
import { RunningLab, startLab } from "../../lab/cli";
import {
  articleNpsHost,
  azureMfaKey,
  iasRestarts,
  readHostState,
  updateHostState,
} from "../../lab/windows/hostState";
import { buildProgram } from "../../program";
import { emptyState, Engine, EngineState, providerKey, Step } from "../support/engine";
import { foreignKeyCredential, labSecrets, labStackSettings, resourceNamed } from "./support";

const summary = (steps: Step[]) =>
  steps.map(
    (step) =>
      `${step.op} ${step.name} [${step.properties.join(",")}]` +
      (step.unknown.length > 0 ? ` unknown [${step.unknown.join(",")}]` : ""),
  );

const everyResource = [
  "tenant",
  "nps01",
  "nps02",
  "vpn01",
  "tenant-mfa-client",
  "tenant-mfa-connector",
  "vpn01-radius-timeout",
  "nps01-forwarding-timeout",
  "nps01-certificate",
  "nps01-credential",
  "nps01-extension",
  "nps01-ias-restart",
  "nps02-certificate",
  "nps02-forwarding-timeout",
  "nps01-superseded-keys",
  "nps02-credential",
  "nps02-extension",
  "nps02-ias-restart",
  "nps02-superseded-keys",
];

describe("scenario: the article's lab through Pulumi's dynamic-provider host", function () {
  this.timeout(180_000);
  let labDir: string;
  let projectDir: string;
  let lab: RunningLab;
  let engine: Engine;
  let foreignKey: KeyCredential;
  let state: EngineState = emptyState();
  /** Every state the engine produced, for the secrets check. */
  const states: EngineState[] = [];

  const hostFile = (name: string) => lab.description.hosts.find((host) => host.name === name)!.stateFile;
  const npsHosts = () => lab.description.hosts.filter((host) => host.role === "nps").map((host) => host.name);
  const restartsOn = (name: string) => iasRestarts(readHostState(hostFile(name))).length;
  const sp = (appId: string) => lab.graph.servicePrincipal(appId)!;
  const keep = (next: EngineState) => {
    states.push(next);
    state = next;
  };

  before(async () => {
    labDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-scenario-lab-"));
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-scenario-project-"));
    lab = await startLab({ dir: labDir, projectDir, nps: 2, vpn: 1, seed: "article" });
    foreignKey = foreignKeyCredential("Contoso legacy NPS (registered by hand)");
    await lab.graph.changeServicePrincipal(mfaClientAppId, (client) => ({
      ...client,
      keyCredentials: [foreignKey],
    }));
    engine = await Engine.start({
      stack: labStackSettings(projectDir, lab.description),
      program: () => buildProgram(loadStackConfig()),
    });
  });

  after(async () => {
    await engine?.stop();
    await lab?.stop();
    for (const dir of [labDir, projectDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a new stack's preview --refresh plans every resource of the article's lab and changes nothing", async () => {
    const { steps } = await engine.preview(emptyState(), { refresh: true });
    assert.deepEqual(
      summary(steps),
      everyResource.map((name) => `create ${name} []`),
    );
    assert.equal(sp(mfaClientAppId).accountEnabled, false, "a preview enabled the Client");
    assert.deepEqual(
      readHostState(hostFile("vpn01")).remoteAccessRadius.map((entry) => entry.timeout),
      [5, 5],
    );
  });

  it("up repairs the article: service principals, certificates, registry, timeouts, one IAS restart per server", async () => {
    const { state: next, steps } = await engine.up(state);
    keep(next);
    assert.deepEqual(
      summary(steps),
      everyResource.map((name) => `create ${name} []`),
    );
    assert.equal(sp(mfaClientAppId).accountEnabled, true);
    assert.equal(sp(mfaConnectorAppId).accountEnabled, true);
    const keys = sp(mfaClientAppId).keyCredentials;
    assert.ok(
      keys.some((key) => key.keyId === foreignKey.keyId),
      "the foreign key was dropped",
    );
    for (const name of npsHosts()) {
      const host = readHostState(hostFile(name));
      const thumbprint = resourceNamed(state, `${name}-certificate`).outputs.certificate as {
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
  });

  it("after up, refresh then preview shows no changes (--expect-no-changes)", async () => {
    const refreshed = await engine.refresh(state);
    keep(refreshed.state);
    const { changes } = await engine.preview(state);
    assert.deepEqual(summary(changes), []);
  });

  it("the article's drift put back behind the tool's back: preview --refresh lists exactly the drifted settings", async () => {
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

    // `pulumi refresh` then `pulumi preview`: the same plan as `preview --refresh`, one refresh for both steps.
    keep((await engine.refresh(state)).state);
    const { changes } = await engine.preview(state);
    assert.deepEqual(summary(changes), [
      "update tenant-mfa-client [accountEnabled]",
      "update tenant-mfa-connector [accountEnabled]",
      "update vpn01-radius-timeout [timeoutSeconds]",
      "update nps01-credential [status]",
      "update nps01-extension [settings]",
      "update nps01-ias-restart [triggers] unknown [triggers]",
      // Which certificate IAS will load is known only after the restart the preview announces.
      "update nps01-superseded-keys [keepThumbprints] unknown [keepThumbprints]",
      "update nps02-credential [status]",
      "update nps02-extension [settings]",
      "update nps02-ias-restart [triggers] unknown [triggers]",
      "update nps02-superseded-keys [keepThumbprints] unknown [keepThumbprints]",
    ]);
  });

  it("up repairs exactly that drift, and refresh then preview shows no changes", async () => {
    const restartsBefore = npsHosts().map(restartsOn);
    const { state: next, steps } = await engine.up(state);
    keep(next);
    assert.deepEqual(summary(steps.filter((step) => step.op !== "same")), [
      "update tenant-mfa-client [accountEnabled]",
      "update tenant-mfa-connector [accountEnabled]",
      "update vpn01-radius-timeout [timeoutSeconds]",
      "update nps01-credential [status]",
      "update nps01-extension [settings]",
      "update nps01-ias-restart [triggers]",
      "update nps02-credential [status]",
      "update nps02-extension [settings]",
      "update nps02-ias-restart [triggers]",
    ]);
    assert.deepEqual(
      npsHosts().map(restartsOn),
      restartsBefore.map((count) => count + 1),
      "the settings changed: IAS restarts once more on each NPS server",
    );
    assert.equal(sp(mfaClientAppId).accountEnabled, true);
    assert.equal(sp(mfaClientAppId).keyCredentials.length, 3, "foreign key plus one per NPS server");
    keep((await engine.refresh(state)).state);
    assert.deepEqual(summary((await engine.preview(state)).changes), []);
  });

  it("the Connector disabled and a 5 s RADIUS timeout: preview and up touch exactly those, IAS is not restarted", async () => {
    await lab.graph.changeServicePrincipal(mfaConnectorAppId, (connector) => ({
      ...connector,
      accountEnabled: false,
    }));
    updateHostState(hostFile("vpn01"), (host) => {
      host.remoteAccessRadius[0].timeout = 5;
    });
    const restartsBefore = npsHosts().map(restartsOn);

    keep((await engine.refresh(state)).state);
    const preview = await engine.preview(state);
    const expected = [
      "update tenant-mfa-connector [accountEnabled]",
      "update vpn01-radius-timeout [timeoutSeconds]",
    ];
    assert.deepEqual(summary(preview.changes), expected);

    const { state: next, steps } = await engine.up(state);
    keep(next);
    assert.deepEqual(summary(steps.filter((step) => step.op !== "same")), expected);
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

  it("no serialized provider and no state carries a lab password or the Graph client secret", () => {
    const secrets = labSecrets(lab.description);
    const providers = states.flatMap((each) =>
      each.resources
        .filter((resource) => resource.custom)
        .flatMap((resource) => [resource.inputs[providerKey], resource.outputs[providerKey]]),
    );
    assert.ok(providers.length >= everyResource.length, "no serialized providers collected");
    for (const provider of providers) {
      assert.equal(typeof provider, "string");
      for (const secret of secrets)
        assert.ok(!(provider as string).includes(secret), "a provider carries a secret");
    }
    for (const each of states) {
      const text = JSON.stringify(each);
      for (const secret of secrets) assert.ok(!text.includes(secret), "the state carries a secret");
    }
  });

  it("destroy forgets: both service principals stay enabled, every key credential stays", async () => {
    const keysBefore = sp(mfaClientAppId)
      .keyCredentials.map((key) => key.keyId)
      .sort();
    const registryBefore = npsHosts().map((name) => readHostState(hostFile(name)).registry[azureMfaKey]);
    const { steps } = await engine.destroy(state);
    keep(emptyState());
    assert.equal(steps.length, everyResource.length);
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
