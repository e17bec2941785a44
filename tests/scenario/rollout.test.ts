// Rollouts across three NPS servers, one lab for all of them. Issue 26's proof on a version-true lab: three
// servers on an old extension, users dialling from another process, and the README's upgrade block. A wrong
// SHA-256 runs nothing anywhere; one `up --refresh` upgrades all three in turn, with 0 failed dials and 0
// failed token acquisitions, after which nothing drifts; with a later release declared, an install failing on
// the second server stops the rollout with the first upgraded and the third untouched, users still signing
// in, and the next `up --refresh` finishes it. Last, IAS failing to restart on the second server:
// the README's repair must end with that server's error (not hang, as it did when a dependent waited on the
// failed restart), the first repaired and the third untouched.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RunningLab } from "../../lab/cli";
import { labInstallerLocations, writeLabInstaller } from "../../lab/extensionInstaller";
import { azureMfaKey, iasRestarts, readHostState, updateHostState } from "../../lab/windows/hostState";
import { EngineError } from "../../engine";
import { documentedBlock } from "./documentedCommands";
import { PulumiCli } from "./pulumiCli";
import { DialLoop, npsHosts, rotateWhileDialling, TimedDial, tokenFailures } from "./rotationSupport";
import { resourceNamed, ScenarioLab, startScenarioLab, stopScenarioLab } from "./support";

const oldVersion = "1.2.2677.2";
/** A later release than the lab's current one, for the second rollout. */
const newerVersion = "1.2.3000.1";
const newerFile = `NpsExtnForAzureMfaInstaller-${newerVersion}.exe`;
const nps = ["nps01", "nps02", "nps03"];
const sasToken = "lab-sas-token-0f1e2d";

describe("scenario: rollouts across three NPS servers (the extension upgraded while users dial; a failed restart)", function () {
  this.timeout(900_000);
  let scenario: ScenarioLab;
  let lab: RunningLab;
  let cli: PulumiCli;
  const loops: DialLoop[] = [];
  const file = (name: string) => lab.description.hosts.find((host) => host.name === name)!.stateFile;
  const version = (name: string) => readHostState(file(name)).npsExtensionVersion;
  const loadedVersion = (name: string) => readHostState(file(name)).services.IAS.loaded?.extensionVersion;
  const restarts = (name: string) => iasRestarts(readHostState(file(name))).length;

  /** The README's block, with the lab's installer and the version declared. */
  const upgradeBlock = (
    sha256: string,
    declaredVersion: string,
    source = lab.description.extensionInstaller!.uncPath,
  ) =>
    documentedBlock("README.md", "upgrade-extension").map((line) =>
      line.startsWith("pulumi config set --path extension.installer.source ")
        ? // The lab's source, quoted: documentedBlock gives lines with their quotes removed.
          `pulumi config set --path extension.installer.source '${source}'`
        : line.replace("<sha256>", sha256).replace("<version>", declaredVersion),
    );

  /** Runs `work` while a user dials the lab's VPN again and again from another process. */
  const whileDialling = (work: () => Promise<void>): Promise<TimedDial[]> =>
    rotateWhileDialling({ dir: scenario.labDir, lab, engine: scenario.engine, loops }, work);

  /** Every server runs `expected` and IAS restarted once more than `before`, each after the previous one's restart. */
  const assertUpgradedInTurn = (expected: string, before: number[]) => {
    nps.forEach((name, index) => {
      assert.equal(version(name), expected, name);
      assert.equal(loadedVersion(name), expected, `${name}: IAS does not run ${expected}`);
      assert.equal(restarts(name), before[index] + 1, `${name}: IAS restarted other than once`);
    });
    const outputs = (name: string) => resourceNamed(cli.state, name).outputs as Record<string, string>;
    for (const [previous, next] of [
      ["nps01", "nps02"],
      ["nps02", "nps03"],
    ])
      assert.ok(
        outputs(`${previous}-ias-restart`).restartedAt < outputs(`${next}-extension-install`).installedAt,
        `${next} was upgraded before ${previous}'s restart passed its health check`,
      );
  };

  const assertEveryoneSignedIn = (dials: TimedDial[], atLeast: number) => {
    assert.ok(dials.length >= atLeast, `only ${dials.length} dials ran during the rollout`);
    assert.deepEqual(
      dials.filter((dial) => dial.outcome !== "connected"),
      [],
    );
    assert.deepEqual(tokenFailures(lab), [], "a token acquisition failed");
  };

  before(async () => {
    scenario = await startScenarioLab("upgrade", {
      nps: 3,
      vpn: 1,
      seed: "healthy",
      extensionVersion: oldVersion,
    });
    lab = scenario.lab;
    cli = new PulumiCli(scenario.engine, { labDir: scenario.labDir });
  });

  after(async () => {
    for (const loop of loops) loop.kill();
    await stopScenarioLab(scenario);
  });

  it("a wrong sha256 stops the rollout before anything runs on any server, naming the server and both hashes", async () => {
    const installer = lab.description.extensionInstaller!;
    const before = npsHosts(lab).map((host) => fs.readFileSync(host.stateFile, "utf8"));
    const wrong = "0".repeat(64);
    const lines = upgradeBlock(wrong, installer.version);
    await cli.runAll(lines.slice(0, 4));
    const failure = await cli.run(lines[4]).then(
      () => assert.fail("up succeeded with a wrong sha256"),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EngineError);
    assert.match(
      failure.message,
      new RegExp(
        `nps01-extension-install: .*nps01[^\\n]*NpsExtensionInstall\\.ps1 failed at "verify the installer's SHA-256" ` +
          `\\(InstallerHashMismatch\\): the installer fetched from .* has SHA-256 ${installer.sha256}, but ` +
          `extension\\.installer\\.sha256 declares ${wrong}\\. Nothing was run`,
      ),
    );
    assert.deepEqual(
      npsHosts(lab).map((host) => fs.readFileSync(host.stateFile, "utf8")),
      before,
      "an NPS server was changed",
    );
    const saved = cli.state.resources.map((resource) => resource.name);
    assert.ok(!saved.some((name) => /^nps0[123]-(certificate|extension|ias-restart)$/.test(name)));
    assert.ok(!saved.some((name) => name.startsWith("nps02-") || name.startsWith("nps03-")));
  });

  it("one up --refresh with the installer declared upgrades all three in turn while users dial: 0 failed dials, 0 failed tokens; then nothing drifts", async () => {
    const installer = lab.description.extensionInstaller!;
    const lines = upgradeBlock(installer.sha256, installer.version);
    const dials = await whileDialling(async () => {
      await cli.runAll(lines.slice(0, 5));
    });
    await cli.run(lines[5]);
    assertUpgradedInTurn(installer.version, [0, 0, 0]);
    assertEveryoneSignedIn(dials, 3);
    // The pipeline's check on the stack as built: the installs are ordered one server at a time.
    await cli.runAll(documentedBlock("README.md", "nightly-policy"));
  });

  it("an install failing on the second server stops the rollout: the first upgraded, the third untouched, nobody's sign-in fails", async () => {
    // A later release the lab serves from its installers folder, fetched over the lab's HTTPS this time.
    const newer = writeLabInstaller(path.join(scenario.labDir, "installers"), newerVersion, newerFile);
    updateHostState(file("nps02"), (host) => (host.faults = { extensionInstallExitCode: 1603 }));
    const nps03Before = fs.readFileSync(file("nps03"), "utf8");
    const restartsBefore = nps.map(restarts);
    let failure: unknown;
    const dials = await whileDialling(async () => {
      // With a query, as a storage account's SAS URL has: it stays out of messages, and secret in state.
      const url = `${labInstallerLocations(newerFile).url}?sv=2025-01-05&sig=${sasToken}`;
      const lines = upgradeBlock(newer.sha256, newer.version, url);
      await cli.runAll(lines.slice(0, 4));
      failure = await cli.run(lines[4]).then(
        () => assert.fail("up succeeded although the installer fails on nps02"),
        (error: unknown) => error,
      );
    });
    assert.ok(failure instanceof EngineError);
    assert.match(
      failure.message,
      /nps02-extension-install: [^\n]*nps02[^\n]*\(InstallFailed\): NpsExtnForAzureMfaInstaller\.exe failed with exit code 1603, ERROR_INSTALL_FAILURE/,
    );
    const current = lab.description.extensionInstaller!.version;
    assert.match(
      failure.message,
      new RegExp(`The old version ${current.replace(/\./g, "\\.")} was uninstalled first`),
    );
    assert.doesNotMatch(failure.message, /nps0[13]-/);
    assert.ok(!failure.message.includes(sasToken), "the URL's token is in the error");
    assert.ok(resourceNamed(cli.state, "nps01-extension-install").secretInputs.includes("installer"));

    assert.equal(loadedVersion("nps01"), newerVersion, "nps01's IAS does not run the new version");
    assert.equal(restarts("nps01"), restartsBefore[0] + 1);
    // nps02: the old version is gone from disk, and IAS still runs it until its next start.
    assert.equal(version("nps02"), undefined);
    assert.equal(loadedVersion("nps02"), current);
    assert.equal(restarts("nps02"), restartsBefore[1]);
    assert.equal(fs.readFileSync(file("nps03"), "utf8"), nps03Before, "nps03 was touched");
    assertEveryoneSignedIn(dials, 2);
  });

  it("the next up --refresh finishes it, one server at a time, and then nothing drifts", async () => {
    updateHostState(file("nps02"), (host) => delete host.faults);
    const restartsBefore = nps.map(restarts);
    const lines = documentedBlock("README.md", "upgrade-extension");
    const dials = await whileDialling(async () => {
      await cli.run(lines[4]);
    });
    await cli.run(lines[5]);
    // nps01 was upgraded by the run that stopped: it is not restarted again.
    assertUpgradedInTurn(newerVersion, [restartsBefore[0] - 1, restartsBefore[1], restartsBefore[2]]);
    assertEveryoneSignedIn(dials, 1);
  });

  it("IAS failing to start on the second server: the README's repair fails with nps02's error, nps01 is repaired, nps03 is not touched", async () => {
    updateHostState(file("nps02"), (host) => {
      host.services.IAS.faults = { failsToStart: true };
    });
    // Drift on every server that only an IAS restart puts in force.
    for (const name of ["nps01", "nps02", "nps03"])
      updateHostState(file(name), (host) => delete host.registry[azureMfaKey].STS_URL);
    const nps03Before = fs.readFileSync(file("nps03"), "utf8");
    const restartsBefore = restarts("nps01");
    const [preview, up] = documentedBlock("README.md", "repair");
    await cli.run(preview);
    const failure = await cli.run(up).then(
      () => assert.fail("up succeeded although IAS does not start on nps02"),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof EngineError);
    assert.match(
      failure.message,
      /nps02-ias-restart: dynamic-provider host: nps02[^\n]*IasRestart\.ps1 failed/,
    );
    assert.doesNotMatch(failure.message, /nps01-ias-restart:/);
    assert.equal(restarts("nps01"), restartsBefore + 1, "nps01 was not repaired first");
    assert.ok(readHostState(file("nps01")).registry[azureMfaKey].STS_URL, "nps01's STS_URL was not restored");
    assert.equal(fs.readFileSync(file("nps03"), "utf8"), nps03Before, "nps03 was touched");
  });
});
