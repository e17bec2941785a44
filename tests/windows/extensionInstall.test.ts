// The extension's installer as the program declares it (one `<nps>-extension-install` per NPS server, only
// with extension.installer, feeding the settings and the IAS restart), and how its drift is judged.
import * as assert from "node:assert/strict";
import { parseEstateSettings } from "../../config/estateSettings";
import { buildProgram } from "../../program";
import { dynamicTypeToken } from "../../providers/resourceTypes";
import { installDrift } from "../../providers/windows/npsExtensionInstall";
import { settingsDrift } from "../../providers/windows/npsExtensionSettings";
import { RegisteredResource, runProgram } from "../support/pulumiProgram";

const tenantId = "aaaabbbb-0000-cccc-1111-dddd2222eeee";
const installer = {
  source: "\\\\files\\npsmfa\\NpsExtnForAzureMfaInstaller.exe",
  sha256: "0123456789abcdef".repeat(4),
};
const winrm = (host: string) => ({
  url: `https://${host}:5986/wsman`,
  username: "CORP\\svc-npsmfa",
  password: "hunter2-never-in-inputs",
});
const estate = (extension: Record<string, unknown>) => ({
  tenantId,
  extension,
  npsServers: ["nps01.corp.example.com", "nps02.corp.example.com"].map((hostname) => ({
    hostname,
    winrm: winrm(hostname),
  })),
});

/** What the providers would answer: a certificate, and an install made at a known time. */
function outputsFor(resource: RegisteredResource): Record<string, unknown> {
  if (resource.type === dynamicTypeToken("NpsCertificate"))
    return {
      certificate: { thumbprint: "A".repeat(40), derBase64: "", notBefore: "", notAfter: "" },
      changedAt: "",
    };
  if (resource.type === dynamicTypeToken("NpsExtensionSettings")) return { changedAt: "" };
  if (resource.type === dynamicTypeToken("NpsExtensionInstall"))
    return { installedAt: `installed-on-${resource.inputs.hostname}` };
  return {};
}

async function declared(extension: Record<string, unknown>): Promise<RegisteredResource[]> {
  const settings = estate(extension);
  const { resources } = await runProgram(
    { config: settings },
    () => buildProgram(parseEstateSettings(settings)),
    outputsFor,
  );
  return resources;
}

describe("the extension's installer in the program", function () {
  this.timeout(60_000);

  it("declares no install resource without extension.installer: the version is only read", async () => {
    const resources = await declared({ minimumVersion: "1.2.2893.1" });
    assert.ok(resources.some((resource) => resource.name === "nps01.corp.example.com-extension"));
    assert.ok(!resources.some((resource) => resource.type === dynamicTypeToken("NpsExtensionInstall")));
    const restart = resources.find((resource) => resource.name === "nps01.corp.example.com-ias-restart")!;
    assert.deepEqual(Object.keys(restart.inputs.triggers as object).sort(), ["certificate", "settings"]);
  });

  it("declares one per NPS server with the installer and minimum, and feeds its install time to settings and restart", async () => {
    const resources = await declared({ minimumVersion: "1.2.2893.1", installer });
    const installs = resources.filter(
      (resource) => resource.type === dynamicTypeToken("NpsExtensionInstall"),
    );
    assert.deepEqual(
      installs.map((resource) => resource.name),
      ["nps01.corp.example.com-extension-install", "nps02.corp.example.com-extension-install"],
    );
    assert.deepEqual(installs[0].inputs.installer, installer);
    assert.equal(installs[0].inputs.minimumVersion, "1.2.2893.1");
    assert.doesNotMatch(
      JSON.stringify(installs),
      /hunter2/,
      "a WinRM password reached the resource's inputs",
    );
    const settings = resources.find((resource) => resource.name === "nps02.corp.example.com-extension")!;
    assert.equal(settings.inputs.extensionInstalledAt, "installed-on-nps02.corp.example.com");
    const restart = resources.find((resource) => resource.name === "nps02.corp.example.com-ias-restart")!;
    assert.equal(
      (restart.inputs.triggers as Record<string, string>).extension,
      "installed-on-nps02.corp.example.com",
    );
  });
});

describe("the extension install's drift", () => {
  const declaredInputs = {
    hostname: "nps01",
    winrm: { url: "https://nps01:5986/wsman", auth: "ntlm" as const, operationTimeoutSeconds: 60 },
    installer,
    minimumVersion: "1.2.2893.1",
    versionSatisfied: true,
  };

  it("is none at or above the minimum, and versionSatisfied below it, missing, or when the minimum is raised", () => {
    const live = (extensionVersion: string | null, versionSatisfied: boolean) => ({
      ...declaredInputs,
      extensionVersion,
      versionSatisfied,
    });
    assert.deepEqual(installDrift(live("1.2.2893.1", true), declaredInputs), []);
    assert.deepEqual(installDrift(live("1.2.2677.2", false), declaredInputs), ["versionSatisfied"]);
    assert.deepEqual(installDrift(live(null, false), declaredInputs), ["versionSatisfied"]);
    // Read against the old minimum (1.2.2893.1), declared now 1.2.3000.0.
    assert.deepEqual(
      installDrift(live("1.2.2893.1", true), { ...declaredInputs, minimumVersion: "1.2.3000.0" }),
      ["versionSatisfied"],
    );
    // Without a minimum, any installed version will do.
    const { minimumVersion: _minimum, ...anyVersion } = declaredInputs;
    assert.deepEqual(installDrift(live("1.0.1.32", true), anyVersion), []);
  });

  it("makes the settings apply again after an install, since an install may reset them", () => {
    const settings = { TENANT_ID: tenantId };
    const base = { hostname: "nps01", winrm: declaredInputs.winrm, settings, extensionInstalled: true };
    const live = { ...base, extensionInstalledAt: "2026-12-01T00:00:00.000Z" };
    assert.deepEqual(settingsDrift(live, { ...base, extensionInstalledAt: "2026-12-01T00:00:00.000Z" }), []);
    assert.deepEqual(settingsDrift(live, { ...base, extensionInstalledAt: "2026-12-06T09:00:00.000Z" }), [
      "extensionInstalledAt",
    ]);
    // No install resource (no installer declared): nothing to compare.
    assert.deepEqual(settingsDrift(live, base), []);
  });
});
