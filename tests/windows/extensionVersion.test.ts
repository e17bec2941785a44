// An extension too old to honour CLIENT_CERT_IDENTIFIER as a thumbprint stops the apply with a message that
// names the host, the version found and the version needed, before anything is written.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { extensionSettingsFor } from "../../components/npsServer";
import { articleNpsHost, readHostState, writeHostState } from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";
import { NpsExtensionSettingsProvider } from "../../providers/windows";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const hostname = "nps01.lab.test";

describe("NPS extension version", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-extension-version-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("refuses a thumbprint on extension 1.2.2216.1, naming host, version found and version needed", async () => {
    const file = path.join(dir, `${hostname}.json`);
    const host = articleNpsHost(hostname, tenantId);
    host.npsExtensionVersion = "1.2.2216.1";
    writeHostState(file, host);
    const provider = new NpsExtensionSettingsProvider({ runnerFor: () => labHostRunner(hostname, file) });
    const inputs = {
      hostname,
      winrm: {
        url: "https://lab:5986/wsman",
        auth: "basic" as const,
        username: "lab",
        operationTimeoutSeconds: 60,
      },
      settings: extensionSettingsFor(tenantId, "public", {}, "A".repeat(40)),
    };
    await assert.rejects(provider.create(inputs), (error: Error) => {
      assert.match(
        error.message,
        /^nps01\.lab\.test: NpsExtensionSettings\.ps1 failed .*\(ExtensionTooOld\)/,
      );
      assert.match(
        error.message,
        /version 1\.2\.2216\.1; CLIENT_CERT_IDENTIFIER .* needs version 1\.2\.2893\.1 or later/,
      );
      return true;
    });
    assert.deepEqual(readHostState(file).registry["HKLM:\\SOFTWARE\\Microsoft\\AzureMfa"], {
      TENANT_ID: tenantId,
    });
  });
});
