// An independent client agrees with ours: pywinrm (Debian's python3-winrm under /usr/bin/python3) runs
// the same scripts against a lab host over HTTPS, validating the lab CA, with NTLM and with Basic, and
// over plain HTTP with NTLM and message_encryption='always' (every message sealed, MS-WSMV 2.2.9.1).
import * as assert from "node:assert/strict";
import { startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";
import { runPywinrm, writeLegacyOpensslConfig, type PywinrmOutcome as Outcome } from "./pywinrmRunner";

const scripts = [
  '"hello from $env:NPSMFA_HOST_NAME"',
  "Write-Output 'partial'\nWrite-Error 'IAS service not found'\nexit 3",
  '"é 漢字"',
];

describe("pywinrm, the reference client, against a lab host", function () {
  // Six pwsh processes per case (three scripts, two clients) on a shared 2-core box.
  this.timeout(180_000);
  const accounts: LabAccount[] = [
    {
      name: "nps02.corp.example.com",
      username: "CORP\\svc-npsmfa",
      password: "Nps-Winrm-P@ss-3",
      auth: "ntlm",
    },
    { name: "vpn02.corp.example.com", username: "localadmin", password: "Vpn-B@sic-4", auth: "basic" },
  ];
  let lab: WinrmLab;
  let opensslConfig: string;

  before(async () => {
    lab = await startWinrmLab(accounts);
    opensslConfig = writeLegacyOpensslConfig(lab.dir);
  });
  after(async () => lab?.stop());

  const cases = [
    ...accounts.map((account) => ({ account, listener: "https" as const })),
    { account: accounts[0], listener: "http" as const },
  ];
  for (const { account, listener } of cases) {
    it(`gets the same stdout and exit codes as our client over ${listener} with ${account.auth}`, async () => {
      const host = lab.hosts.host(account.name);
      host.resetCounters();
      const url = listener === "https" ? host.url : host.httpUrl;
      const theirs = await runPywinrm(
        {
          url,
          messageEncryption: listener === "http" ? "always" : "auto",
          auth: account.auth,
          username: account.username,
          password: account.password,
          caFile: lab.ca.certFile,
          scripts,
        },
        opensslConfig,
      );
      assert.ok(
        (host.exchangesByAction.Receive ?? 0) >= scripts.length,
        "expected pywinrm to reach the host",
      );
      // Over http the host counts an action only after it decrypted and verified the request.
      assert.deepEqual(host.refusedMessages, { unencrypted: 0, unverifiable: 0 });
      const client = lab.client(host, { url });
      const ours: Outcome[] = [];
      for (const script of scripts) ours.push(await client.runPowerShell(script));

      assert.deepEqual(
        theirs.map((outcome) => [outcome.stdout, outcome.exitCode]),
        ours.map((outcome) => [outcome.stdout, outcome.exitCode]),
      );
      assert.equal(ours[0].stdout.trim(), `hello from ${account.name}`);
      assert.deepEqual(
        ours.map((outcome) => outcome.exitCode),
        [0, 3, 0],
      );
      // Both turn the CLIXML error record into text (pywinrm keeps pwsh's colour codes, escaped).
      assert.match(theirs[1].stderr, /IAS service not found/);
      assert.match(ours[1].stderr, /IAS service not found/);
      assert.doesNotMatch(theirs[1].stderr, /#< CLIXML/);
    });
  }
});
