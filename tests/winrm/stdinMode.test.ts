// Issue 12, item 1: a command fed through stdin is started with WINRS_CONSOLEMODE_STDIN=FALSE (a pipe).
// With TRUE (a console) Windows never gives the process an end of input (MS-WSMV 3.1.4.11), so the
// bootstrap's `$input | Out-String` waits and the command runs into its timeout; the lab does the same.
import * as assert from "node:assert/strict";
import { parseRequest } from "../../lab/winrm/soap";
import {
  WinrmClient,
  WinrmCommandTimeoutError,
  WsmanHttpTransport,
  type SoapTransport,
} from "../../remote/winrm";
import { commandRequest } from "../../remote/winrm/envelopes";
import { startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";

const common = { to: "https://nps01:5986/wsman", maxEnvelopeSize: 153600, operationTimeoutSeconds: 20 };

/** The old client's behaviour: every Command asks for a console stdin, even when input is piped. */
function consoleStdin(inner: SoapTransport): SoapTransport {
  return {
    post: (envelope, what, timeoutMs) =>
      inner.post(
        envelope.replace(
          '<w:Option Name="WINRS_CONSOLEMODE_STDIN">FALSE</w:Option>',
          '<w:Option Name="WINRS_CONSOLEMODE_STDIN">TRUE</w:Option>',
        ),
        what,
        timeoutMs,
      ),
    close: () => inner.close(),
  };
}

describe("stdin of a WinRM command: a pipe, not a console", function () {
  this.timeout(120_000);
  const account: LabAccount = {
    name: "nps08.corp.example.com",
    username: "CORP\\svc-npsmfa",
    password: "Nps-Stdin-P@ss-8",
    auth: "ntlm",
  };
  let lab: WinrmLab;
  before(async () => {
    lab = await startWinrmLab([account]);
  });
  after(async () => lab?.stop());

  it("asks for a pipe when input follows, and for the console default otherwise", () => {
    assert.equal(
      parseRequest(commandRequest(common, "S", "powershell", true)).options.WINRS_CONSOLEMODE_STDIN,
      "FALSE",
    );
    assert.equal(parseRequest(commandRequest(common, "S", "echo x")).options.WINRS_CONSOLEMODE_STDIN, "TRUE");
  });

  it("runs a piped script to its end, while a console stdin leaves it waiting into its timeout", async () => {
    const host = lab.hosts.host(account.name);
    const piped = await lab.client(host, { operationTimeoutSeconds: 20 }).runPowerShell("'piped to the end'");
    assert.equal(piped.stdout.trim(), "piped to the end");
    await lab.closeClients();

    const endpoint = {
      url: host.url,
      auth: "ntlm" as const,
      username: account.username,
      caFile: lab.ca.certFile,
      operationTimeoutSeconds: 5,
    };
    const transport = new WsmanHttpTransport({
      ...endpoint,
      hostname: host.name,
      password: account.password,
    });
    const console = new WinrmClient({
      hostname: host.name,
      endpoint,
      password: account.password,
      receiveTimeoutSeconds: 1,
      transport: consoleStdin(transport),
    });
    try {
      await assert.rejects(console.runPowerShell("'never reached'"), WinrmCommandTimeoutError);
    } finally {
      await console.close();
    }
    assert.equal(host.openShells, 0, "the waiting command's shell is deleted");
  });
});
