import * as assert from "node:assert/strict";
import { startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";

describe("WinRM over plain HTTP with NTLM message encryption", function () {
  this.timeout(120_000);
  const accounts: LabAccount[] = [
    {
      name: "nps03.corp.example.com",
      username: "CORP\\svc-npsmfa",
      password: "Nps-Http-P@ss-5",
      auth: "ntlm",
    },
  ];
  let lab: WinrmLab;
  before(async () => {
    lab = await startWinrmLab(accounts);
  });
  after(async () => lab?.stop());

  it("runs commands through our client", async () => {
    const host = lab.hosts.host(accounts[0].name);
    const client = lab.client(host, { url: host.httpUrl });
    const first = await client.runPowerShell('"hello from $env:NPSMFA_HOST_NAME"');
    assert.equal(first.stdout.trim(), `hello from ${host.name}`);
    const second = await client.runPowerShell("Write-Error 'IAS service not found'\nexit 3");
    assert.equal(second.exitCode, 3);
    assert.deepEqual(host.refusedMessages, { unencrypted: 0, unverifiable: 0 });
  });
});
