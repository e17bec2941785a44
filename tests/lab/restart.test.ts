// A lab started again on its folder without --seed keeps the tenant and the hosts as they were left, and
// says so, instead of repeating the seed it first started with as if it had put it back. A damaged lab.json
// stops a restart with its fix, and a second lab leaves a running lab's Pulumi.lab.yaml alone.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../cli/commandLine";
import { RunningLab, startedLine, startLab } from "../../lab/cli";
import { readLabDescription } from "../../lab/stackFiles";
import {
  currentExtensionVersion,
  extensionProductCode,
  readHostState,
  uninstallKey,
  updateHostState,
} from "../../lab/windows/hostState";

describe("lab: started again without --seed", function () {
  // Starting a lab opens an HTTPS listener per host and the Graph emulator: seconds on a loaded machine.
  this.timeout(180_000);
  let dir: string;
  let lab: RunningLab | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-lab-restart-"));
  });

  after(async () => {
    await lab?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps a host changed while it ran, and says it kept the state instead of naming the seed", async () => {
    lab = await startLab({ dir, projectDir: dir, nps: 1, vpn: 1, seed: "article" });
    assert.equal(lab.seeded, true);
    assert.equal(startedLine(dir, lab), `Lab started in ${dir} (seed: article)`);
    const vpn = lab.description.hosts.find((host) => host.role === "vpn")!;
    updateHostState(vpn.stateFile, (host) =>
      host.remoteAccessRadius.forEach((entry) => (entry.timeout = 77)),
    );
    await lab.stop();
    lab = undefined;

    lab = await startLab({ dir, projectDir: dir, nps: 1, vpn: 1 });
    assert.equal(lab.seeded, false);
    const line = startedLine(dir, lab);
    assert.match(line, /as they were left/);
    assert.doesNotMatch(line, /\(seed: article\)/);
    const kept = JSON.parse(fs.readFileSync(vpn.stateFile, "utf8"));
    assert.deepEqual(
      kept.remoteAccessRadius.map((entry: { timeout: number }) => entry.timeout),
      [77],
      "the restart put the seed back",
    );
    await assert.rejects(
      startLab({ dir, projectDir: dir, nps: 1, vpn: 1, extensionVersion: "none" }),
      (error: Error) =>
        error instanceof UsageError && error.message.startsWith("expected --seed with --extension-version"),
    );
  });

  it("a damaged lab.json is named with the fix; a second lab leaves the running lab's Pulumi.lab.yaml alone", async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-lab-project-"));
    const second = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-lab-second-"));
    let other: RunningLab | undefined;
    await lab?.stop();
    try {
      lab = await startLab({ dir, projectDir, nps: 1, vpn: 0 });
      const stackFile = path.join(projectDir, "Pulumi.lab.yaml");
      assert.equal(lab.stackFileDir, projectDir);
      const before = fs.readFileSync(stackFile);

      const labFile = path.join(second, "lab.json");
      fs.writeFileSync(labFile, '{"tenantId": "x"');
      await assert.rejects(
        startLab({ dir: second, projectDir, nps: 1, vpn: 0 }),
        (error: Error) =>
          error.message.startsWith(
            `${labFile}: expected the lab description that npm run lab writes, found text`,
          ) && error.message.includes("--seed article"),
      );
      other = await startLab({
        dir: second,
        projectDir,
        nps: 1,
        vpn: 0,
        seed: "healthy",
        extensionVersion: "1.2.2677.2",
      });
      // The NPS host runs the version asked for; the lab serves the current release's installer.
      const nps = readHostState(other.description.hosts[0].stateFile);
      assert.equal(nps.npsExtensionVersion, "1.2.2677.2");
      assert.equal(nps.services.IAS.loaded?.extensionVersion, "1.2.2677.2");
      assert.equal(
        nps.registry[`${uninstallKey}\\${extensionProductCode("1.2.2677.2")}`].DisplayVersion,
        "1.2.2677.2",
      );
      const installer = other.description.extensionInstaller!;
      assert.deepEqual(
        { ...installer, sha256: installer.sha256.length },
        {
          version: currentExtensionVersion,
          sha256: 64,
          file: path.join(second, "installers", "NpsExtnForAzureMfaInstaller.exe"),
          uncPath: "\\\\files.lab.example\\npsmfa\\NpsExtnForAzureMfaInstaller.exe",
          url: "https://downloads.lab.example/npsmfa/NpsExtnForAzureMfaInstaller.exe",
        },
      );
      assert.deepEqual(nps.network.shares, {
        "\\\\files.lab.example\\npsmfa": path.join(second, "installers"),
      });
      assert.deepEqual(readLabDescription(path.join(second, "lab.json"))?.extensionInstaller, installer);
      assert.equal(other.stackFileDir, second, "the second lab wrote its stack file into the project");
      assert.ok(fs.readFileSync(stackFile).equals(before), "the running lab's Pulumi.lab.yaml changed");
      assert.ok(fs.existsSync(path.join(second, "Pulumi.lab.yaml")));
      assert.deepEqual(
        other.description.users.map((user) => user.upn),
        ["alice@lab.example.com", "bob@lab.example.com"],
      );
    } finally {
      await other?.stop();
      fs.rmSync(projectDir, { recursive: true, force: true });
      fs.rmSync(second, { recursive: true, force: true });
    }
  });
});
