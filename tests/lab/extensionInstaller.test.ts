// The lab's extension installer: the file, its serving on the lab's download host, and the NPS host side an
// installation goes through (real PowerShell, the shim): download, hash, install, the uninstall entry.
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import {
  installerFileName,
  labDownloadHost,
  labDownloadPath,
  labInstallerLocations,
  labInstallerShare,
  readLabInstaller,
  writeLabInstaller,
} from "../../lab/extensionInstaller";
import { GraphEmulator, startGraphEmulator } from "../../lab/graph";
import { loadOrCreateLabCa } from "../../lab/tls";
import {
  articleNpsHost,
  authSrvParametersKey,
  azureMfaKey,
  currentExtensionVersion,
  extensionProductCode,
  installExtension,
  readHostState,
  registeredExtensionVersion,
  startIas,
  uninstallKey,
  writeHostState,
} from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";

const tenant = "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40";

describe("lab extension installer", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-installer-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is a marker line and a manifest, with the SHA-256 Get-FileHash shows and a product code per version", () => {
    const old = writeLabInstaller(dir, "1.2.2677.2", "old.exe");
    const current = writeLabInstaller(dir, currentExtensionVersion);
    assert.equal(current.file, path.join(dir, installerFileName));
    const bytes = fs.readFileSync(current.file);
    assert.equal(current.sha256, crypto.createHash("sha256").update(bytes).digest("hex").toUpperCase());
    assert.match(
      current.productCode,
      /^\{[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}$/,
    );
    assert.equal(current.productCode, extensionProductCode(currentExtensionVersion), "every lab derives it");
    assert.notEqual(old.productCode, current.productCode);
    assert.notEqual(old.sha256, current.sha256);
    assert.deepEqual(
      [readLabInstaller(old.file)?.productName, readLabInstaller(old.file)?.version],
      ["NPS Extension For Azure MFA", "1.2.2677.2"],
    );
    fs.writeFileSync(path.join(dir, "other.exe"), "MZ not an installer\n");
    assert.equal(readLabInstaller(path.join(dir, "other.exe")), undefined);
  });

  it("seeds a version with its uninstall entry, replaces it, or removes the extension; IAS loads it at its start", () => {
    const host = articleNpsHost("nps01", tenant);
    const entries = () => Object.keys(host.registry).filter((key) => key.startsWith(`${uninstallKey}\\`));
    assert.deepEqual(entries(), [`${uninstallKey}\\${extensionProductCode(currentExtensionVersion)}`]);
    assert.equal(host.services.IAS.loaded?.extensionVersion, currentExtensionVersion);

    installExtension(host, "1.2.2677.2");
    assert.deepEqual(entries(), [`${uninstallKey}\\${extensionProductCode("1.2.2677.2")}`]);
    assert.equal(host.registry[entries()[0]].DisplayVersion, "1.2.2677.2");
    assert.equal(host.services.IAS.loaded?.extensionVersion, currentExtensionVersion, "not restarted");
    startIas(host);
    assert.equal(host.services.IAS.loaded?.extensionVersion, "1.2.2677.2");

    installExtension(host, null);
    assert.deepEqual(entries(), []);
    assert.equal(host.npsExtensionVersion, undefined);
    assert.deepEqual(host.registry[authSrvParametersKey], {});
    assert.equal(host.registry[azureMfaKey], undefined);
    assert.equal(registeredExtensionVersion(host), null);
  });

  describe("served over the lab's HTTPS and share, installed through the shim", function () {
    this.timeout(120_000);
    let graph: GraphEmulator;
    let stateFile: string;

    beforeEach(async () => {
      const ca = loadOrCreateLabCa(dir);
      const installers = path.join(dir, "installers");
      graph = await startGraphEmulator({
        ca,
        downloads: { host: labDownloadHost, pathPrefix: labDownloadPath, dir: installers },
      });
      stateFile = path.join(dir, "nps01.json");
      const host = articleNpsHost("nps01", tenant);
      installExtension(host, "1.2.2677.2");
      startIas(host);
      host.network.downloadRoute = { origin: graph.url, caFile: ca.certFile, hosts: [labDownloadHost] };
      host.network.shares = { [labInstallerShare]: installers };
      writeHostState(stateFile, host);
    });
    afterEach(() => graph.stop());

    const get = (urlPath: string, host: string) =>
      new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const request = https.get(
          new URL(urlPath, graph.url),
          { ca: fs.readFileSync(path.join(dir, "lab-ca.pem")), headers: { Host: host } },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
            );
          },
        );
        request.on("error", reject);
      });

    it("answers the download host with the folder's files and 404 otherwise, and Graph as before", async () => {
      const installer = writeLabInstaller(path.join(dir, "installers"), currentExtensionVersion);
      const served = await get(`${labDownloadPath}${installerFileName}`, labDownloadHost);
      assert.equal(served.status, 200);
      assert.deepEqual(served.body, fs.readFileSync(installer.file));
      assert.equal((await get(`${labDownloadPath}missing.exe`, labDownloadHost)).status, 404);
      assert.equal((await get(`${labDownloadPath}..%2Flab-ca.key`, labDownloadHost)).status, 404);
      assert.equal((await get(`/other/${installerFileName}`, labDownloadHost)).status, 404);
      assert.equal((await get(`${labDownloadPath}${installerFileName}`, "127.0.0.1")).status, 404, "Graph's");
    });

    it("an NPS host downloads it (TLS 1.2), copies it from the share, checks its hash, upgrades and lists the product", async () => {
      const installer = writeLabInstaller(path.join(dir, "installers"), currentExtensionVersion);
      const { url, uncPath } = labInstallerLocations();
      const runner = labHostRunner("nps01", stateFile);
      const script = [
        "$ErrorActionPreference = 'Stop'",
        "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12",
        "$dir = Join-Path $env:ProgramData 'npsmfa\\installers'",
        "New-Item -ItemType Directory -Path $dir -Force | Out-Null",
        "$file = Join-Path $dir 'NpsExtnForAzureMfaInstaller.exe'",
        `Invoke-WebRequest -Uri '${url}' -OutFile $file -UseBasicParsing -TimeoutSec 300`,
        "$downloaded = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash",
        "Remove-Item -LiteralPath $file",
        `Copy-Item -LiteralPath '${uncPath}' -Destination $file -Force`,
        "$copied = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash",
        "$missing = try { Invoke-WebRequest -Uri 'https://downloads.lab.example/npsmfa/none.exe' -OutFile (Join-Path $dir 'none.exe') -UseBasicParsing; 'none' } catch { $_.Exception.Message }",
        "$old = @(Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' | Where-Object { $_.DisplayName -eq 'NPS Extension For Azure MFA' })",
        "$log = Join-Path $dir 'install.log'",
        "$over = (Start-Process -FilePath $file -ArgumentList @('/install', '/quiet', '/norestart', '/log', $log) -Wait -PassThru -NoNewWindow).ExitCode",
        "$removed = (Start-Process -FilePath 'msiexec.exe' -ArgumentList @('/x', $old[0].PSChildName, '/quiet', '/norestart', '/l*v', $log) -Wait -PassThru -NoNewWindow).ExitCode",
        "$installed = (Start-Process -FilePath $file -ArgumentList @('/install', '/quiet', '/norestart', '/log', $log) -Wait -PassThru -NoNewWindow).ExitCode",
        "$new = @(Get-ItemProperty -Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' | Where-Object { $_.DisplayName -eq 'NPS Extension For Azure MFA' })",
        "$dll = (Get-Item -Path 'C:\\Program Files\\Microsoft\\AzureMfa\\Extensions\\MfaNpsAuthzExt.dll').VersionInfo.FileVersion",
        "[pscustomobject]@{ downloaded = $downloaded; copied = $copied; missing = $missing; old = $old[0].DisplayVersion; over = $over; removed = $removed; installed = $installed; new = $new.DisplayVersion; code = $new.PSChildName; dll = $dll; programData = $env:ProgramData } | ConvertTo-Json -Compress",
      ].join("\n");
      const result = await runner.runPowerShell(script);
      assert.equal(result.exitCode, 0, result.stderr);
      const facts = JSON.parse(result.stdout.trim()) as Record<string, unknown>;
      assert.deepEqual(facts, {
        downloaded: installer.sha256,
        copied: installer.sha256,
        missing: "Response status code does not indicate success: 404.",
        old: "1.2.2677.2",
        over: 1638,
        removed: 0,
        installed: 0,
        new: currentExtensionVersion,
        code: installer.productCode,
        dll: currentExtensionVersion,
        programData: path.join(dir, "nps01.ProgramData"),
      });
      assert.ok(
        fs.existsSync(path.join(dir, "nps01.ProgramData", "npsmfa", "installers", installerFileName)),
      );
      const state = readHostState(stateFile);
      assert.equal(state.services.IAS.loaded?.extensionVersion, "1.2.2677.2", "IAS keeps what it loaded");
      assert.equal(
        state.registry[azureMfaKey],
        undefined,
        "the uninstall took the settings (the lab's worst case)",
      );
    });
  });
});
