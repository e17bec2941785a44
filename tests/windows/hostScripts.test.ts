import * as assert from "node:assert/strict";
import { extensionSettingsFor } from "../../components/npsServer";
import { settingsDrift } from "../../providers/windows/npsExtensionSettings";
import {
  HostScriptError,
  hostScriptCommand,
  PowerShellRunner,
  runHostScript,
} from "../../remote/hostScripts";
import { changedSettings, normalise, restartNeeded, sameValue } from "../../providers/windows";

const runnerAnswering = (stdout: string, exitCode = 0, stderr = ""): PowerShellRunner => ({
  runPowerShell: async () => ({ stdout, stderr, exitCode }),
});

describe("host script shell", () => {
  it("sends the same script text whatever the data holds; the data is one base64 literal", () => {
    const hostile = hostScriptCommand("NpsExtensionSettings", {
      settings: { X: `'; $(Stop-Service IAS) \`" ;` },
    });
    const plain = hostScriptCommand("NpsExtensionSettings", { settings: { X: "10.0.0.5" } });
    const [hostileFirst, ...hostileRest] = hostile.split("\n");
    const [, ...plainRest] = plain.split("\n");
    assert.match(hostileFirst, /^\$InputBase64 = '[A-Za-z0-9+/=]+'$/);
    assert.equal(hostileRest.join("\n"), plainRest.join("\n"));
    assert.ok(!hostile.includes("Stop-Service IAS"));
  });

  it("returns the result of an ok document, ignoring other output lines", async () => {
    const stdout = 'WARNING: noise\n{"ok":true,"script":"IasRestart","result":{"status":"Running"}}\n';
    assert.deepEqual(await runHostScript(runnerAnswering(stdout), "nps01", "IasRestart", {}), {
      status: "Running",
    });
  });

  it("throws naming host, script, step and code of a structured failure", async () => {
    const stdout =
      '{"ok":false,"script":"RadiusTimeout","error":{"step":"read RRAS RADIUS servers","code":"X","message":"boom"}}';
    await assert.rejects(
      runHostScript(runnerAnswering(stdout, 1), "vpn01", "RadiusTimeout", {}),
      (error: HostScriptError) => {
        assert.equal(
          error.message,
          'vpn01: RadiusTimeout.ps1 failed at "read RRAS RADIUS servers" (X): boom',
        );
        return true;
      },
    );
  });

  it("throws naming the host when no document comes back, with stderr stripped of CLIXML", async () => {
    const stderr = '#< CLIXML\n<Objs><S S="Error">powershell not found_x000D__x000A_</S></Objs>';
    await assert.rejects(
      runHostScript(runnerAnswering("", 1, stderr), "nps02", "NpsCertificate", {}),
      /nps02: NpsCertificate\.ps1 failed at "run" \(NoResult\): exit code 1 .*powershell not found/,
    );
  });
});

describe("comparing live and declared values", () => {
  it("ignores key order and undefined members", () => {
    assert.ok(sameValue({ b: 1, a: { d: undefined, c: 2 } }, { a: { c: 2 }, b: 1 }));
    assert.ok(!sameValue({ a: 1 }, { a: 2 }));
    assert.deepEqual(normalise({ b: [{ z: 1, y: null }], a: 1 }), { a: 1, b: [{ z: 1 }] });
  });

  it("names each drifted setting, missing ones included", () => {
    assert.deepEqual(changedSettings({ A: "1", B: "x" }, { A: "1", B: "2", C: "3" }), [
      "settings.B",
      "settings.C",
    ]);
  });

  it("restarts IAS only when a trigger moved to a new value", () => {
    assert.equal(restartNeeded(undefined, { certificate: "", settings: "" }), false);
    assert.equal(restartNeeded(undefined, { certificate: "t1", settings: "" }), true);
    assert.equal(
      restartNeeded({ certificate: "t1", settings: "" }, { certificate: "t1", settings: "" }),
      false,
    );
    assert.equal(
      restartNeeded({ certificate: "t1", settings: "" }, { certificate: "t1", settings: "t2" }),
      true,
    );
  });
});

describe("NpsServer inputs", () => {
  it("writes the cloud's endpoints, the optional settings in the extension's spelling, and the thumbprint", () => {
    const settings = extensionSettingsFor(
      "t",
      "usgov",
      { requireUserMatch: false, ipWhitelist: ["10.0.0.5", "10.0.0.6"] },
      "AB",
    );
    assert.equal(settings.STS_URL, "https://login.microsoftonline.us/");
    assert.equal(settings.REQUIRE_USER_MATCH, "FALSE");
    assert.equal(settings.IP_WHITELIST, "10.0.0.5;10.0.0.6");
    assert.equal(settings.CLIENT_CERT_IDENTIFIER, "AB");
  });

  it("writes OVERRIDE_NUMBER_MATCHING_WITH_OTP = FALSE unless the stack declares PAP; a declared value wins", () => {
    const override = (
      extension: { overrideNumberMatchingWithOtp?: boolean },
      radius?: "pap" | "mschapv2" | "eap",
    ) => extensionSettingsFor("t", "public", extension, "AB", radius).OVERRIDE_NUMBER_MATCHING_WITH_OTP;
    assert.equal(override({}), "FALSE");
    assert.equal(override({}, "mschapv2"), "FALSE");
    assert.equal(override({}, "eap"), "FALSE");
    assert.equal(override({}, "pap"), undefined, "PAP carries the TOTP prompt: the value is left alone");
    assert.equal(override({ overrideNumberMatchingWithOtp: true }), "TRUE");
    assert.equal(override({ overrideNumberMatchingWithOtp: true }, "pap"), "TRUE");
    assert.equal(override({ overrideNumberMatchingWithOtp: false }, "pap"), "FALSE");
  });
});

describe("NpsExtensionSettings drift and the declared minimum version", () => {
  const declared = {
    hostname: "nps01",
    winrm: { url: "https://nps01:5986/wsman", auth: "ntlm" as const, operationTimeoutSeconds: 60 },
    settings: {},
    // What check() makes of every declaration.
    extensionInstalled: true,
  };
  const live = (extensionVersion: string | null) => ({
    settings: {},
    extensionInstalled: true,
    extensionVersion,
  });

  it("is drift when the installed version is below extension.minimumVersion or unreadable, numbers compared", () => {
    const minimum = { ...declared, minimumExtensionVersion: "1.2.3000.0" };
    assert.deepEqual(settingsDrift(live("1.2.2893.1"), minimum), ["minimumExtensionVersion"]);
    assert.deepEqual(settingsDrift(live(null), minimum), ["minimumExtensionVersion"]);
    assert.deepEqual(settingsDrift(live("1.2.10000.0"), minimum), []);
    assert.deepEqual(
      settingsDrift(live("1.0.1.40"), declared),
      [],
      "no minimum declared: the version is only reported",
    );
  });
});
