// WinRM faults against the lab's hosts (real HTTPS, NTLM, WS-Management, pwsh) through our public
// client API: a connection dropped during Command, Send and Receive is reported naming the host as the
// stack calls it, and the next run on the same client converges; a host that accepts connections and
// never answers fails within the configured operation timeout, naming the host and that timeout.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { issueServerCertificate } from "../../lab/tls";
import type { LabWinrmHost } from "../../lab/winrm";
import { WinrmClient } from "../../remote/winrm";
import { startWinrmLab, WinrmLab } from "../winrm/labFixture";
import { count } from "./tally";

/** The name the stack gives the host; the lab serves it on 127.0.0.1, as an IP-based winrm.url would. */
const stackHostname = "nps01.corp.example.com";
const account = {
  name: "nps01",
  username: "CORP\\svc-npsmfa",
  password: "Lab-Winrm-P@ss-7",
  auth: "ntlm" as const,
};

describe("WinRM faults", function () {
  this.timeout(180_000);
  let lab: WinrmLab;
  let host: LabWinrmHost;

  before(async () => {
    lab = await startWinrmLab([account]);
    host = lab.hosts.host(account.name);
  });
  after(() => lab.stop());

  const clientFor = (url: string, operationTimeoutSeconds = 60) =>
    new WinrmClient({
      hostname: stackHostname,
      password: account.password,
      endpoint: {
        url,
        auth: account.auth,
        username: account.username,
        caFile: lab.ca.certFile,
        operationTimeoutSeconds,
      },
    });

  for (const action of ["Command", "Send", "Receive"] as const) {
    it(`reports a connection dropped during ${action} naming the host, then a rerun converges`, async () => {
      const client = clientFor(host.url);
      try {
        host.injectFault({ kind: "dropConnection", action });
        const failure = await client.runPowerShell('"first"').then(
          () => undefined,
          (error: Error) => error,
        );
        const rerun = await client.runPowerShell('"second"');
        const reported = failure?.message.includes(stackHostname) === true;
        count({
          faultsInjected: 1,
          haltedCleanly: reported ? 1 : 0,
          survived: rerun.stdout.trim() === "second" ? 1 : 0,
        });
        assert.equal(rerun.stdout.trim(), "second", "the rerun on the same client converges");
        assert.ok(failure, "the dropped run is reported, not retried into a second execution");
        assert.doesNotMatch(failure.message, new RegExp(account.password.replace(/\$/g, "\\$")));
        assert.ok(reported, `the error names ${stackHostname}: ${failure.message}`);
      } finally {
        host.clearFaults();
        await client.close().catch(() => undefined);
      }
    });
  }

  const silentServers: [string, () => net.Server][] = [
    ["accepts TCP", () => net.createServer(() => undefined)],
    [
      "completes TLS",
      () => {
        const pair = issueServerCertificate(lab.ca, ["127.0.0.1", "localhost"]);
        return tls.createServer({ cert: pair.certPem, key: pair.keyPem }, () => undefined);
      },
    ],
  ];
  for (const [what, makeServer] of silentServers) {
    it(`gives up on a host that ${what} and never answers, within the configured timeout, naming the host`, async () => {
      const server = makeServer();
      const sockets = new Set<net.Socket>();
      server.on("connection", (socket: net.Socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as net.AddressInfo;
      const client = clientFor(`https://127.0.0.1:${port}/wsman`, 5);
      try {
        const failure = await client.runPowerShell('"never"').then(
          () => undefined,
          (error: Error) => error,
        );
        const named = failure?.message.includes(stackHostname) === true;
        const timeoutSaid = /\b5 ?s\b|5 seconds/.test(failure?.message ?? "");
        count({ faultsInjected: 1, haltedCleanly: named && timeoutSaid ? 1 : 0 });
        assert.ok(failure, "a silent host is an error");
        assert.ok(named, `the error names ${stackHostname}: ${failure.message}`);
        assert.ok(timeoutSaid, `the error says the configured 5 s: ${failure.message}`);
      } finally {
        await client.close().catch(() => undefined);
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
