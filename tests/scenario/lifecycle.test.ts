// What happens to a running stack over its life, each through the strict engine and, where the README
// gives the commands, by running its block as written: adopting with `pulumi import` (which Pulumi's
// dynamic-provider host cannot do), a fix to a provider's read reaching resources created before it, an
// `up` interrupted after it changed a server, a WinRM password rotated, and servers removed.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RunningLab, startLab } from "../../lab/cli";
import { azureMfaKey, iasRestarts, readHostState, updateHostState } from "../../lab/windows/hostState";
import { dynamicTypeNames, dynamicTypeToken } from "../../providers/resourceTypes";
import { Engine, EngineError, providerKey, StackSettings, Step } from "../../engine";
import { documentedBlock, repoRoot } from "./documentedCommands";
import { PulumiCli } from "./pulumiCli";
import { resourceNamed, ScenarioLab, startScenarioLab, stopScenarioLab } from "./support";

const readme = (name: string) => documentedBlock("README.md", name);
const names = (steps: Step[], op: Step["op"]) =>
  steps
    .filter((step) => step.op === op)
    .map((step) => step.name)
    .sort();

describe("scenario: a stack's life (import, code fixes, interrupted runs, rotation, removal)", function () {
  this.timeout(600_000);
  let scenario: ScenarioLab;
  let lab: RunningLab;
  let engine: Engine;
  let cli: PulumiCli;

  const hostFile = (name: string) => lab.description.hosts.find((host) => host.name === name)!.stateFile;
  const restartsOn = (name: string) => iasRestarts(readHostState(hostFile(name))).length;
  // A restart without a seed keeps the tenant and the hosts as they were left (lab/cli.ts).
  const restartTheLab = async () => {
    scenario.lab = await startLab({ dir: scenario.labDir, projectDir: scenario.projectDir, nps: 2, vpn: 1 });
    return scenario.lab;
  };

  before(async () => {
    scenario = await startScenarioLab("lifecycle", { nps: 2, vpn: 1, seed: "article" });
    ({ lab, engine } = scenario);
    cli = new PulumiCli(engine);
    await cli.runAll(readme("repair"));
  });

  after(async () => {
    await stopScenarioLab(scenario);
  });

  it("pulumi import of each resource type fails in the dynamic-provider host, as with the real CLI", async () => {
    const ids: Record<string, string> = {
      [dynamicTypeNames.servicePrincipalEnabled]: "981f26a1-7f43-403b-a875-f8b09b8cd720",
      [dynamicTypeNames.npsCertificateCredential]: "nps01",
      [dynamicTypeNames.npsCertificate]: "nps01",
      [dynamicTypeNames.npsExtensionSettings]: "nps01",
      [dynamicTypeNames.radiusTimeout]: "vpn01",
      [dynamicTypeNames.iasRestart]: "nps01",
    };
    const before = cli.state;
    for (const [type, id] of Object.entries(ids)) {
      const failure = await cli
        .run(`pulumi import ${dynamicTypeToken(type as never)} adopted-${type} ${id}`)
        .then(
          () => assert.fail(`${type}: the import succeeded`),
          (error: unknown) => error,
        );
      // The host looks the provider up in the request's `__provider`, which an ImportStep never sends.
      assert.ok(failure instanceof EngineError);
      assert.match(failure.message, /code must be a string, not undefined/);
    }
    assert.deepEqual(cli.state, before, "a failed import changed the state");
  });

  it("a fix to a provider's read reaches resources created before it, at the next refresh", async () => {
    const storedProvider = resourceNamed(cli.state, "vpn01-radius-timeout").outputs[providerKey];
    assert.ok(Buffer.byteLength(String(storedProvider)) <= 8192);
    // A build of the package whose RadiusTimeout read also reports who read it: the "fix". The host finds
    // it by the package's name, as in the repository (package.json exports, Node's self-reference).
    const fixedProject = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-fixed-project-"));
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(fixedProject, "node_modules"));
    fs.writeFileSync(
      path.join(fixedProject, "package.json"),
      JSON.stringify({ name: "npsmfa", exports: { "./providers": "./providers/implementations.js" } }),
    );
    fs.mkdirSync(path.join(fixedProject, "providers"));
    fs.writeFileSync(
      path.join(fixedProject, "providers", "implementations.js"),
      `const real = require(${JSON.stringify(path.join(repoRoot, "dist", "providers", "implementations.js"))});
exports.providerFor = (kind) => {
  const provider = real.providerFor(kind);
  if (kind !== "RadiusTimeout" || provider.fixed) return provider;
  const read = provider.read.bind(provider);
  provider.read = async (id, props) => {
    const result = await read(id, props);
    return { ...result, props: { ...result.props, readBy: "the fixed read" } };
  };
  provider.fixed = true;
  return provider;
};
`,
    );
    try {
      engine.projectDir = fixedProject;
      await cli.run("pulumi refresh");
    } finally {
      engine.projectDir = repoRoot;
      fs.rmSync(fixedProject, { recursive: true, force: true });
    }
    const refreshed = resourceNamed(cli.state, "vpn01-radius-timeout");
    assert.equal(refreshed.outputs.readBy, "the fixed read");
    assert.equal(refreshed.outputs[providerKey], storedProvider, "the stored provider text changed");
  });

  it("state written before the package heals: the previous seam shows as an update, and the next up stores the current one", async () => {
    const fixture = JSON.parse(
      fs.readFileSync(path.join(__dirname, "fixtures", "previousSeam.json"), "utf8"),
    ) as { providers: Record<string, string> };
    const custom = cli.state.resources.filter((resource) => resource.custom);
    const current = new Map(custom.map((resource) => [resource.urn, resource.outputs[providerKey]]));
    // Each resource as the previous release left it: its inputs and outputs carry that release's provider.
    const previous = (resource: (typeof custom)[number]) =>
      fixture.providers[resource.type.split(":").pop()!];
    cli.state = {
      ...cli.state,
      resources: cli.state.resources.map((resource) =>
        resource.custom
          ? {
              ...resource,
              inputs: { ...resource.inputs, [providerKey]: previous(resource) },
              outputs: { ...resource.outputs, [providerKey]: previous(resource) },
            }
          : resource,
      ),
    };
    const restartsBefore = ["nps01", "nps02"].map(restartsOn);

    // The refresh reads with the stored (previous) provider; the diff, with the current one, asks for an update.
    const preview = await cli.run("pulumi preview --refresh");
    assert.deepEqual(names(preview.changes, "update"), custom.map((resource) => resource.name).sort());
    await cli.run("pulumi up");
    for (const resource of cli.state.resources.filter((entry) => entry.custom)) {
      assert.equal(resource.outputs[providerKey], current.get(resource.urn), `${resource.name}: not healed`);
    }
    assert.deepEqual(
      ["nps01", "nps02"].map(restartsOn),
      restartsBefore,
      "re-applying the same settings restarted IAS",
    );
    // Healed for good: with the current provider stored, the diff looks at settings only again.
    assert.deepEqual((await cli.run("pulumi preview")).changes, []);
  });

  it("an up interrupted after it changed a server's registry is finished by the README's repair: IAS restarts", async () => {
    // A new setting declared (Pulumi.<stack>.yaml edited), and the `up` that wrote it to nps01 stopped
    // right after the write, before anything was saved: the server has it, the state does not.
    const withUserMatch: StackSettings = {
      ...engine.stackConfig,
      config: { ...engine.stackConfig.config, extension: { requireUserMatch: true } },
    };
    engine.setStackConfig(withUserMatch);
    updateHostState(hostFile("nps01"), (host) => {
      host.registry[azureMfaKey].REQUIRE_USER_MATCH = "TRUE";
    });
    const restartsBefore = ["nps01", "nps02"].map(restartsOn);

    // The server itself says IAS has not loaded what it has now.
    const refresh = await cli.run("pulumi refresh");
    assert.deepEqual(names(refresh.changes, "update"), ["nps01-ias-restart"]);
    await cli.runAll(readme("repair"));
    assert.deepEqual(
      ["nps01", "nps02"].map(restartsOn),
      restartsBefore.map((count) => count + 1),
      "IAS did not restart on the new setting",
    );
    await cli.runAll(readme("nightly"));
  });

  it("a WinRM password rotated: a refresh fails with the old one until the README's sequence stored the new one", async () => {
    // The password changes on nps01 (the lab keeps it in lab.json and reads it when it starts).
    await lab.stop();
    const labFile = path.join(scenario.labDir, "lab.json");
    const description = JSON.parse(fs.readFileSync(labFile, "utf8"));
    const nps01 = description.hosts.find((host: { name: string }) => host.name === "nps01");
    nps01.password = "Rotated-Passw0rd-2";
    fs.writeFileSync(labFile, JSON.stringify(description, null, 2));
    lab = await restartTheLab();

    const failure = await cli.run("pulumi up --refresh").then(
      () => assert.fail("a refresh signed in with the old password"),
      (error: unknown) => error,
    );
    assert.match(String(failure), /nps01/);
    const lines = readme("rotate-secret").map((line) => line.replace("<new password>", nps01.password));
    await cli.runAll(lines);
    assert.ok(!JSON.stringify(cli.state).includes(nps01.password), "the new password is in the state");
  });

  it("removing an NPS server and a VPN server: the README's sequence forgets them and touches neither", async () => {
    const untouched = ["nps02", "vpn01"].map((name) => fs.readFileSync(hostFile(name), "utf8"));
    const config = engine.stackConfig.config as { npsServers: { hostname: string }[]; vpnServers: unknown[] };
    engine.setStackConfig({
      ...engine.stackConfig,
      config: {
        ...config,
        npsServers: config.npsServers.filter((server) => !server.hostname.startsWith("nps02")),
        vpnServers: [],
      },
    });
    const [up] = await cli.runAll(readme("remove-server").slice(0, 1)).then((last) => [last!]);
    assert.deepEqual(names(up.steps, "delete"), [
      "nps02",
      "nps02-certificate",
      "nps02-credential",
      "nps02-extension",
      "nps02-ias-restart",
      "nps02-superseded-keys",
      "vpn01",
      "vpn01-radius-timeout",
    ]);
    await cli.runAll(readme("remove-server").slice(1));
    assert.deepEqual(
      ["nps02", "vpn01"].map((name) => fs.readFileSync(hostFile(name), "utf8")),
      untouched,
      "a removed server was changed",
    );
    assert.equal(
      (engine.hostLog.match(/removed from the stack only; nothing on the server was changed/g) ?? [])
        .length >= 4,
      true,
    );
  });
});
