// The Windows providers against lab hosts: real pwsh running the real host scripts over the Windows shim,
// each host a JSON state file. Provider methods are driven in the order the engine would run them.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { extensionSettingsFor, npsCertificateSubject } from "../../components/npsServer";
import {
  articleNpsHost,
  articleVpnHost,
  azureMfaKey,
  HostState,
  iasRestarts,
  readHostState,
  updateHostState,
  writeHostState,
} from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";
import {
  certificateDrift,
  IasRestartProvider,
  IasRestartState,
  NpsCertificateProvider,
  NpsCertificateState,
  NpsExtensionSettingsProvider,
  NpsExtensionSettingsState,
  RadiusTimeoutProvider,
  RadiusTimeoutState,
  settingsDrift,
  timeoutDrift,
  WindowsProviderOptions,
} from "../../providers/windows";
import type {
  IasRestartInputs,
  NpsExtensionSettingsInputs,
  WinrmEndpointInputs,
} from "../../providers/resourceTypes";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const winrm: WinrmEndpointInputs = {
  url: "https://lab:5986/wsman",
  auth: "basic",
  username: "lab",
  operationTimeoutSeconds: 60,
};

class Lab {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-windows-"));
  readonly options: WindowsProviderOptions = {
    runnerFor: (hostname) => labHostRunner(hostname, this.file(hostname)),
  };
  file(hostname: string): string {
    return path.join(this.dir, `${hostname}.json`);
  }
  seed(state: HostState): void {
    writeHostState(this.file(state.hostname), state);
  }
  state(hostname: string): HostState {
    return readHostState(this.file(hostname));
  }
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One NPS server's chain as the NpsServer component declares it, applied as the engine would. */
async function applyNpsServer(
  lab: Lab,
  hostname: string,
  previousHostname?: string,
  extra: Record<string, string> = {},
) {
  const certificates = new NpsCertificateProvider(lab.options);
  const extension = new NpsExtensionSettingsProvider(lab.options);
  const restarts = new IasRestartProvider(lab.options);
  const host = { hostname, winrm };
  const certificate = (await certificates.create({ ...host, tenantId, renewalDays: 60 }))
    .outs as NpsCertificateState;
  const thumbprint = certificate.certificate!.thumbprint;
  const settingsInputs = {
    ...host,
    settings: { ...extensionSettingsFor(tenantId, "public", {}, thumbprint), ...extra },
  };
  const settings = (await extension.create(settingsInputs)).outs as NpsExtensionSettingsState;
  const restartInputs: IasRestartInputs = {
    ...host,
    ...(previousHostname ? { previousHostname } : {}),
    triggers: { certificate: certificate.changedAt, settings: settings.changedAt },
    healthCheckSeconds: 1,
    retireCertificates: { subject: npsCertificateSubject(tenantId), keepThumbprint: thumbprint },
  };
  const restart = (await restarts.create(restartInputs)).outs as IasRestartState;
  return { certificate, settings, restart };
}

describe("Windows providers against lab hosts", function () {
  this.timeout(120_000);
  let lab: Lab;
  beforeEach(() => (lab = new Lab()));
  afterEach(() => lab.remove());

  it("article hosts: drift setting by setting, applied, no drift after, a second apply changes nothing and keeps IAS up", async () => {
    lab.seed(articleNpsHost("nps01.lab.test", tenantId));
    lab.seed(articleVpnHost("vpn01.lab.test", ["nps01.lab.test"]));
    const certificates = new NpsCertificateProvider(lab.options);
    const extension = new NpsExtensionSettingsProvider(lab.options);
    const timeouts = new RadiusTimeoutProvider(lab.options);
    const restarts = new IasRestartProvider(lab.options);
    const nps = { hostname: "nps01.lab.test", winrm };

    // A stack that already declares these servers, refreshed against the article's hosts.
    const certificateInputs = (await certificates.check({}, { ...nps, tenantId, renewalDays: 60 }))
      .inputs as NpsCertificateState;
    const declaredSettings = extensionSettingsFor(
      tenantId,
      "public",
      { requireUserMatch: true },
      "0".repeat(40),
    );
    const settingsInputs = (await extension.check({}, { ...nps, settings: declaredSettings }))
      .inputs as NpsExtensionSettingsInputs;
    const timeoutInputs = {
      hostname: "vpn01.lab.test",
      winrm,
      npsServers: ["nps01.lab.test"],
      timeoutSeconds: 60,
      remoteServerGroups: false,
    };
    const [liveCertificate, liveSettings, liveTimeout] = await Promise.all([
      certificates.read("nps01.lab.test", { ...certificateInputs, changedAt: "", drift: [] }),
      extension.read("nps01.lab.test", {
        ...settingsInputs,
        managedNames: Object.keys(declaredSettings),
        changedAt: "",
        changedValues: [],
        extensionVersion: null,
      }),
      timeouts.read("vpn01.lab.test", {
        ...timeoutInputs,
        managedNpsServers: ["nps01.lab.test"],
        desiredTimeoutSeconds: 60,
        liveTimeouts: {},
        changedAt: "",
      }),
    ]);
    assert.deepEqual(certificateDrift(liveCertificate.props as NpsCertificateState, certificateInputs), [
      "usableCertificate",
      "keyReadableByNetworkService",
    ]);
    assert.deepEqual(settingsDrift(liveSettings.props as NpsExtensionSettingsState, settingsInputs), [
      "settings.AZURE_MFA_HOSTNAME",
      "settings.AZURE_MFA_RESOURCE_HOSTNAME",
      "settings.AZURE_MFA_TARGET_PATH",
      "settings.CLIENT_CERT_IDENTIFIER",
      "settings.CLIENT_ID",
      "settings.OVERRIDE_NUMBER_MATCHING_WITH_OTP",
      "settings.REQUIRE_USER_MATCH",
      "settings.STS_URL",
    ]);
    assert.deepEqual(timeoutDrift(liveTimeout.props as RadiusTimeoutState, timeoutInputs), [
      "timeoutSeconds",
      "timeout of rras:nps01.lab.test",
    ]);
    for (const [provider, id, live, inputs] of [
      [certificates, "nps01.lab.test", liveCertificate.props, certificateInputs],
      [extension, "nps01.lab.test", liveSettings.props, settingsInputs],
      [timeouts, "vpn01.lab.test", liveTimeout.props, timeoutInputs],
    ] as const) {
      assert.equal((await provider.diff(id, live as never, inputs as never)).changes, true);
    }

    // pulumi up: certificate, then settings pinning it, then the restart they trigger.
    const certificate = (
      await certificates.update("nps01.lab.test", liveCertificate.props as never, certificateInputs)
    ).outs as NpsCertificateState;
    const thumbprint = certificate.certificate!.thumbprint;
    const settingsApplied = {
      ...settingsInputs,
      settings: extensionSettingsFor(tenantId, "public", { requireUserMatch: true }, thumbprint),
    };
    const [settings, timeout] = await Promise.all([
      extension.update("nps01.lab.test", liveSettings.props as never, settingsApplied),
      timeouts.update("vpn01.lab.test", liveTimeout.props as never, timeoutInputs),
    ]);
    const settingsState = settings.outs as NpsExtensionSettingsState;
    const restartInputs = {
      ...nps,
      healthCheckSeconds: 1,
      triggers: { certificate: certificate.changedAt, settings: settingsState.changedAt },
    };
    const restart = (await restarts.create(restartInputs)).outs as IasRestartState;
    assert.notEqual(restart.restartedAt, "");
    const npsHost = lab.state("nps01.lab.test");
    assert.equal(npsHost.registry[azureMfaKey].CLIENT_CERT_IDENTIFIER, thumbprint);
    assert.equal(npsHost.registry[azureMfaKey].REQUIRE_USER_MATCH, "TRUE");
    assert.deepEqual(
      lab.state("vpn01.lab.test").remoteAccessRadius.map((entry) => entry.timeout),
      [60],
    );
    assert.equal(iasRestarts(npsHost).length, 1);

    // pulumi preview --refresh: nothing drifted.
    const [again, againSettings, againTimeout] = await Promise.all([
      certificates.read("nps01.lab.test", certificate),
      extension.read("nps01.lab.test", settingsState),
      timeouts.read("vpn01.lab.test", timeout.outs as RadiusTimeoutState),
    ]);
    assert.deepEqual(certificateDrift(again.props as NpsCertificateState, certificateInputs), []);
    assert.deepEqual(settingsDrift(againSettings.props as NpsExtensionSettingsState, settingsApplied), []);
    assert.deepEqual(timeoutDrift(againTimeout.props as RadiusTimeoutState, timeoutInputs), []);
    const nextRestartInputs = {
      ...restartInputs,
      triggers: {
        certificate: (again.props as NpsCertificateState).changedAt,
        settings: (againSettings.props as NpsExtensionSettingsState).changedAt,
      },
    };
    assert.equal((await restarts.diff("nps01.lab.test", restart, nextRestartInputs)).changes, false);

    // A second apply, even forced through update, changes nothing and leaves IAS alone.
    const before = fs.readFileSync(lab.file("nps01.lab.test"), "utf8");
    const second = (await extension.update("nps01.lab.test", againSettings.props as never, settingsApplied))
      .outs as NpsExtensionSettingsState;
    assert.deepEqual(second.changedValues, []);
    assert.equal(second.changedAt, settingsState.changedAt);
    const secondRestart = (await restarts.update("nps01.lab.test", restart, nextRestartInputs))
      .outs as IasRestartState;
    assert.equal(secondRestart.restartedAt, restart.restartedAt);
    assert.equal(fs.readFileSync(lab.file("nps01.lab.test"), "utf8"), before);
  });

  it("three NPS servers restart strictly one at a time, each after the previous health check", async () => {
    const hosts = ["nps01.lab.test", "nps02.lab.test", "nps03.lab.test"];
    for (const hostname of hosts) lab.seed(articleNpsHost(hostname, tenantId));
    const applied = [];
    for (const [index, hostname] of hosts.entries())
      applied.push(await applyNpsServer(lab, hostname, hosts[index - 1]));
    const restarts = hosts.map((hostname) => iasRestarts(lab.state(hostname)));
    assert.deepEqual(
      restarts.map((list) => list.length),
      [1, 1, 1],
    );
    for (let index = 1; index < hosts.length; index++) {
      const stopped = Date.parse(restarts[index][0].stoppedAt!);
      const previousStarted = Date.parse(restarts[index - 1][0].startedAt!);
      const previousHealthy = Date.parse(applied[index - 1].restart.restartedAt);
      assert.ok(
        stopped > previousStarted,
        `${hosts[index]} stopped before ${hosts[index - 1]} was running again`,
      );
      assert.ok(
        stopped >= previousHealthy,
        `${hosts[index]} stopped before ${hosts[index - 1]} passed its health check`,
      );
      assert.ok(stopped - previousStarted >= 1000, "the health check window (1 s) separates the restarts");
    }
  });

  it("a failed health check on the second server stops the rollout and leaves the third untouched", async () => {
    const hosts = ["nps01.lab.test", "nps02.lab.test", "nps03.lab.test"];
    for (const hostname of hosts) lab.seed(articleNpsHost(hostname, tenantId));
    updateHostState(lab.file("nps02.lab.test"), (state) => {
      state.services.IAS.faults = { authzErrorsAfterRestart: true };
    });
    const untouched = fs.readFileSync(lab.file("nps03.lab.test"), "utf8");
    await applyNpsServer(lab, hosts[0]);
    await assert.rejects(applyNpsServer(lab, hosts[1], hosts[0]), (error: Error) => {
      assert.match(
        error.message,
        /^nps02\.lab\.test: IasRestart\.ps1 failed at "health check" \(HealthCheckFailed\)/,
      );
      assert.match(error.message, /ESTS_TOKEN_ERROR/);
      return true;
    });
    // The engine runs nothing that depends on a failed resource: nps03's chain never starts.
    assert.equal(fs.readFileSync(lab.file("nps03.lab.test"), "utf8"), untouched);
    assert.equal(iasRestarts(lab.state("nps01.lab.test")).length, 1);
  });

  it("stores a value with quotes, a semicolon, $(...) and a backtick literally", async () => {
    lab.seed(articleNpsHost("nps01.lab.test", tenantId));
    const hostile = `10.0.0.5'; Remove-Item -Recurse C:\\ ; "$(Stop-Service IAS)" \`$env:COMPUTERNAME \${x}`;
    const extension = new NpsExtensionSettingsProvider(lab.options);
    const applied = await extension.create({
      hostname: "nps01.lab.test",
      winrm,
      settings: { IP_WHITELIST: hostile },
    });
    assert.equal(lab.state("nps01.lab.test").registry[azureMfaKey].IP_WHITELIST, hostile);
    assert.equal((applied.outs as NpsExtensionSettingsState).settings.IP_WHITELIST, hostile);
    assert.equal(lab.state("nps01.lab.test").services.IAS.status, "Running");
  });
});
