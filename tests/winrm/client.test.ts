// Our WinRM client against the lab's WS-Management hosts: real HTTPS, NTLMv2 and Basic, real pwsh.
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  WinrmAuthenticationError,
  WinrmCommandTimeoutError,
  WinrmConnectionError,
  WinrmFaultError,
  WinrmTlsError,
} from "../../remote/winrm";
import { loadOrCreateLabCa } from "../../lab/tls";
import { issueClientCertificate, startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";

const nps01: LabAccount = {
  name: "nps01.corp.example.com",
  username: "CORP\\svc-npsmfa",
  password: "Nps-Winrm-P@ss-1",
  auth: "ntlm",
};
const vpn01: LabAccount = {
  name: "vpn01.corp.example.com",
  username: "localadmin",
  password: "Vpn-B@sic-2",
  auth: "basic",
  maxEnvelopeSize: 128 * 1024,
};

describe("WinRM client against lab hosts", function () {
  this.timeout(60_000);
  let lab: WinrmLab;
  let shimDir: string;

  before(async () => {
    lab = await startWinrmLab([nps01, vpn01]);
    shimDir = fs.mkdtempSync(path.join(lab.dir, "shim-"));
  });
  after(async () => lab?.stop());
  afterEach(async () => {
    lab.hosts.hosts.forEach((host) => host.clearFaults());
    await lab.closeClients();
  });

  const host = (name: string) => lab.hosts.host(name);

  it("runs a 200 KB script over stdin in several Sends, on one connection and one shell", async () => {
    const line = `$total += 1 # ${"padding to make the script long ".repeat(3)}\n`;
    const count = Math.ceil((200 * 1024) / line.length);
    const script = `$total = 0\n${line.repeat(count)}"total=$total"`;
    assert.ok(script.length >= 200 * 1024);
    const target = host(nps01.name);
    target.resetCounters();
    const result = await lab.client(target).runPowerShell(script);
    assert.equal(result.stdout.trim(), `total=${count}`);
    assert.equal(result.exitCode, 0);
    assert.ok(
      (target.exchangesByAction.Send ?? 0) >= 2,
      `expected stdin in chunks, found ${target.exchangesByAction.Send} Send`,
    );
    assert.equal(target.connections, 1);
  });

  it("returns the exit code and readable error text of a failing script", async () => {
    const result = await lab
      .client(host(nps01.name))
      .runPowerShell('Write-Output "before"\nWrite-Error "NPS extension registry key missing"\nexit 3');
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout.trim(), "before");
    assert.match(result.stderr, /NPS extension registry key missing/);
    assert.doesNotMatch(result.stderr, /CLIXML|<Objs|_x000[AD]_/);
    assert.ok(!result.stderr.includes("\u001b["), "expected no ANSI colour codes");
  });

  it("keeps receiving through w:TimedOut faults while a command is silent longer than OperationTimeout", async () => {
    const target = host(nps01.name);
    target.resetCounters();
    const client = lab.client(target, {}, { receiveTimeoutSeconds: 1 });
    const result = await client.runPowerShell('Start-Sleep -Seconds 3\n"awake"');
    assert.equal(result.stdout.trim(), "awake");
    assert.ok(
      (target.exchangesByAction.Receive ?? 0) >= 3,
      `expected several Receives, found ${target.exchangesByAction.Receive}`,
    );
  });

  it("keeps é and 漢字 intact both ways", async () => {
    const result = await lab
      .client(host(nps01.name))
      .runPowerShell('$word = "é 漢字"\n"$word|$($word.Length)"');
    assert.equal(result.stdout.trim(), "é 漢字|4");
  });

  it("needs at most 4 HTTP exchanges per command on a reused connection and shell", async () => {
    const target = host(nps01.name);
    const client = lab.client(target);
    await client.runPowerShell('"warm up: connection authenticated, shell open"');
    const before = target.exchanges;
    const connections = target.connections;
    const result = await client.runPowerShell('"second"');
    assert.equal(result.stdout.trim(), "second");
    assert.ok(
      target.exchanges - before <= 4,
      `expected at most 4 exchanges, found ${target.exchanges - before}`,
    );
    assert.equal(target.connections, connections, "expected the kept-alive connection to be reused");
  });

  for (const account of [nps01, vpn01]) {
    it(`refuses a wrong ${account.auth} password with an error that does not contain it`, async () => {
      const wrong = `${account.password}-wrong`;
      const client = lab.client(host(account.name), {}, { password: wrong });
      await assert.rejects(client.runPowerShell('"never"'), (error: Error) => {
        assert.ok(error instanceof WinrmAuthenticationError, String(error));
        assert.ok(!error.message.includes(wrong) && !error.message.includes(account.password));
        assert.match(error.message, new RegExp(`${account.auth}.*HTTP 401`));
        return true;
      });
    });
  }

  it("refuses a certificate from an unknown CA, and accepts it when its thumbprint is pinned", async () => {
    const target = host(nps01.name);
    const unknownCa = lab.client(target, { caFile: undefined });
    await assert.rejects(unknownCa.runPowerShell('"never"'), (error: Error) => {
      assert.ok(error instanceof WinrmTlsError, String(error));
      assert.match(error.message, /caFile|thumbprint/);
      return true;
    });
    const wrongPin = lab.client(target, { caFile: undefined, thumbprint: "AB".repeat(20) });
    await assert.rejects(wrongPin.runPowerShell('"never"'), WinrmTlsError);

    const der = new crypto.X509Certificate(target.certificatePem).raw;
    const sha256 = crypto.createHash("sha256").update(der).digest("hex");
    for (const thumbprint of [target.thumbprint, sha256]) {
      const pinned = lab.client(target, { caFile: undefined, thumbprint });
      const result = await pinned.runPowerShell('"pinned"');
      assert.equal(result.stdout.trim(), "pinned");
    }
  });

  it("gets an envelope-size fault past the host's MaxEnvelopeSize, and fits under it by chunking", async () => {
    const target = host(vpn01.name);
    const script = `"$(('x' * 100).Length)"\n# ${"y".repeat(100 * 1024)}`;
    const oversized = lab.client(target, {}, { maxEnvelopeSize: 600 * 1024 });
    await assert.rejects(oversized.runPowerShell(script), (error: Error) => {
      assert.ok(error instanceof WinrmFaultError, String(error));
      assert.match(error.message, /MaxEnvelopeSize/);
      return true;
    });
    assert.equal(target.openShells, 0, "expected the shell deleted after the failure");
    const fitting = lab.client(target, {}, { maxEnvelopeSize: 64 * 1024 });
    assert.equal((await fitting.runPowerShell(script)).stdout.trim(), "100");
  });

  it("fails readably on HTTP 500 and a connection dropped mid-Receive, deletes the shell, and recovers", async () => {
    const target = host(nps01.name);
    const client = lab.client(target);
    target.injectFault({ kind: "http500", action: "Command" });
    await assert.rejects(client.runPowerShell('"never"'), (error: Error) => {
      assert.ok(error instanceof WinrmConnectionError, String(error));
      assert.match(error.message, /HTTP 500.*Command|Command.*HTTP 500/);
      return true;
    });
    assert.equal(target.openShells, 0);

    target.injectFault({ kind: "dropConnection", action: "Receive" });
    await assert.rejects(client.runPowerShell('"lost"'), (error: Error) => {
      assert.ok(error instanceof WinrmConnectionError, String(error));
      assert.match(error.message, /Receive.*outcome is unknown/);
      return true;
    });
    assert.equal(target.openShells, 0);

    target.injectFault({ kind: "latency", ms: 200 });
    assert.equal((await client.runPowerShell('"recovered"')).stdout.trim(), "recovered");
  });

  it("abandons a command that outlives operationTimeoutSeconds and deletes its shell", async () => {
    const target = host(nps01.name);
    const client = lab.client(target, { operationTimeoutSeconds: 3 }, { receiveTimeoutSeconds: 1 });
    await assert.rejects(client.runPowerShell("Start-Sleep -Seconds 30"), WinrmCommandTimeoutError);
    assert.equal(target.openShells, 0);
  });

  it("runs each host's PowerShell with its own name and state file, the Windows shim imported first", async () => {
    const shim = path.join(shimDir, "Shim.psm1");
    fs.writeFileSync(
      shim,
      "function Get-LabShimMarker { 'shim loaded' }\nExport-ModuleMember -Function Get-LabShimMarker\n",
    );
    for (const account of [nps01, vpn01]) {
      const target = host(account.name);
      (target as unknown as { environment: { shimModule: string } }).environment.shimModule = shim;
      const result = await lab
        .client(target)
        .runPowerShell(
          '"$env:NPSMFA_HOST_NAME|$([IO.Path]::GetFileName($env:NPSMFA_HOST_STATE))|$(Get-LabShimMarker)"',
        );
      assert.equal(result.stdout.trim(), `${account.name}|${account.name}.json|shim loaded`);
    }
  });

  it("accepts `powershell -Command -` with the script on stdin, and fails unknown programs as cmd.exe does", async () => {
    const client = lab.client(host(nps01.name));
    const lineMode = await client.runCommand(
      "powershell -NoProfile -NonInteractive -Command -",
      Buffer.from("Write-Output 'line mode'\nexit 4\n"),
    );
    assert.equal(lineMode.stdout.toString().trim(), "line mode");
    assert.equal(lineMode.exitCode, 4);
    const unknown = await client.runCommand("ipconfig /all");
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr.toString(), /not recognized/);
  });

  it("authenticates with a client certificate from the lab CA, and refuses one from another CA", async () => {
    const target = host(nps01.name);
    const trusted = issueClientCertificate(lab.ca, path.join(lab.dir, "client-trusted"));
    const certificateEndpoint = { auth: "certificate" as const, username: undefined, ...trusted };
    const result = await lab
      .client(target, certificateEndpoint, { password: undefined })
      .runPowerShell('"by certificate"');
    assert.equal(result.stdout.trim(), "by certificate");

    const otherCa = loadOrCreateLabCa(path.join(lab.dir, "other-ca"));
    const untrusted = issueClientCertificate(otherCa, path.join(lab.dir, "client-untrusted"));
    const refused = lab.client(target, { ...certificateEndpoint, ...untrusted }, { password: undefined });
    await assert.rejects(refused.runPowerShell('"never"'), WinrmAuthenticationError);
  });
});
