// The Windows providers as production runs them: configured from the stack's config (password read in
// configure), over the real WinRM client to a lab WS-Management host running pwsh with the Windows shim:
// once over HTTPS with Basic, once over plain HTTP with NTLM and every message encrypted.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  articleNpsHost,
  azureMfaKey,
  iasRestarts,
  readHostState,
  writeHostState,
} from "../../lab/windows/hostState";
import { loadOrCreateLabCa } from "../../lab/tls";
import { LabWinrmHost } from "../../lab/winrm";
import {
  IasRestartProvider,
  NpsExtensionSettingsProvider,
  NpsExtensionSettingsState,
} from "../../providers/windows";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("Windows providers over WinRM to a lab host", function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-winrm-windows-"));
  const stateFile = path.join(dir, "nps01.json");
  const ca = loadOrCreateLabCa(dir);
  let host: LabWinrmHost;

  before(async () => {
    host = await LabWinrmHost.start({
      name: "nps01.lab.test",
      username: "labadmin",
      password: "Lab-P@ss'w0rd",
      stateFile,
      ca,
    });
  });
  after(async () => {
    await host?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => writeHostState(stateFile, articleNpsHost("nps01.lab.test", tenantId)));

  const listeners = [
    { name: "HTTPS with Basic", url: () => host.url, auth: "basic" as const },
    { name: "plain HTTP with NTLM message encryption", url: () => host.httpUrl, auth: "ntlm" as const },
  ];

  for (const listener of listeners) {
    it(`reads, applies and restarts over WinRM (${listener.name}), the password taken from config`, async () => {
      await readApplyRestart(listener.url(), listener.auth);
    });
  }

  function configured<T extends { configure(req: never): Promise<void> }>(
    provider: T,
    url: string,
    auth: "basic" | "ntlm",
  ): T {
    const config: Record<string, string> = {
      "npsmfa:tenantId": tenantId,
      "npsmfa:npsServers": JSON.stringify([
        {
          hostname: "nps01.lab.test",
          winrm: { url, auth, username: "labadmin", password: "Lab-P@ss'w0rd", caFile: ca.certFile },
        },
      ]),
    };
    void provider.configure({ config: { get: (key: string) => config[key] } } as never);
    return provider;
  }

  async function readApplyRestart(url: string, auth: "basic" | "ntlm"): Promise<void> {
    const extension = configured(new NpsExtensionSettingsProvider(), url, auth);
    const winrm = { url, auth, username: "labadmin", operationTimeoutSeconds: 60 };
    const inputs = {
      hostname: "nps01.lab.test",
      winrm,
      settings: { TENANT_ID: tenantId, STS_URL: "https://login.microsoftonline.com/" },
    };
    const created = (await extension.create(inputs)).outs as NpsExtensionSettingsState;
    assert.deepEqual(created.changedValues, ["STS_URL"]);
    assert.equal(
      readHostState(stateFile).registry[azureMfaKey].STS_URL,
      "https://login.microsoftonline.com/",
    );
    const read = await extension.read("nps01.lab.test", created);
    assert.deepEqual((read.props as NpsExtensionSettingsState).settings, inputs.settings);

    const restarts = configured(new IasRestartProvider(), url, auth);
    await restarts.create({
      hostname: "nps01.lab.test",
      winrm,
      triggers: { settings: created.changedAt },
      healthCheckSeconds: 1,
    });
    assert.equal(iasRestarts(readHostState(stateFile)).length, 1);
  }
});
