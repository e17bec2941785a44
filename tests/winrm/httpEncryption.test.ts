// WinRM over plain HTTP, Windows' default listener: our client against the lab's HTTP listener, and the
// listener refusing what Windows refuses with AllowUnencrypted=false (an unencrypted envelope after the
// handshake, a sealed one that was altered or replayed, Basic authentication).
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { Socket } from "node:net";
import type { LabWinrmHost } from "../../lab/winrm";
import { encryptedContentType, encryptEnvelope, decryptEnvelope } from "../../remote/winrm/encryptedMessage";
import { createShellRequest, parseShellId } from "../../remote/winrm/envelopes";
import { authenticate, negotiateMessage, parseChallengeMessage } from "../../remote/winrm/ntlm";
import { NtlmSealing } from "../../remote/winrm/ntlmSession";
import { WinrmConnectionError } from "../../remote/winrm/errors";
import { ntlmToken, splitAccount } from "../../remote/winrm/transport";
import { startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: Socket;
}

/** A bare HTTP connection to the listener, so a test can send what no well-behaved client would. */
class RawConnection {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  constructor(private readonly url: string) {}

  post(body: Buffer, headers: Record<string, string>): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const request = http.request(this.url, {
        method: "POST",
        agent: this.agent,
        headers: { "Content-Length": String(body.length), ...headers },
      });
      request.on("error", reject);
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
            socket: response.socket,
          }),
        );
      });
      request.end(body);
    });
  }

  /** NTLM handshake with sealing, empty bodies (as pywinrm sets up its context); the client's keys. */
  async handshake(account: LabAccount): Promise<NtlmSealing> {
    const first = await this.post(Buffer.alloc(0), {
      Authorization: `Negotiate ${negotiateMessage({ seal: true }).toString("base64")}`,
    });
    const challenge = parseChallengeMessage(
      Buffer.from(ntlmToken(first.headers["www-authenticate"]) ?? "", "base64"),
    );
    const { domain, user } = splitAccount(account.username);
    const result = authenticate({ user, domain, password: account.password, challenge, seal: true });
    const final = await this.post(Buffer.alloc(0), {
      Authorization: `Negotiate ${result.message.toString("base64")}`,
    });
    assert.equal(final.status, 200, "expected the handshake's empty POST to be accepted");
    return new NtlmSealing(result.exportedSessionKey!, "client");
  }

  close(): void {
    this.agent.destroy();
  }
}

function socketClosed(socket: Socket): Promise<void> {
  return socket.destroyed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once("close", () => resolve()));
}

describe("WinRM over plain HTTP with NTLM message encryption", function () {
  this.timeout(180_000);
  const account: LabAccount = {
    name: "nps03.corp.example.com",
    username: "CORP\\svc-npsmfa",
    password: "Nps-Http-P@ss-5",
    auth: "ntlm",
  };
  let lab: WinrmLab;
  let host: LabWinrmHost;
  const connections: RawConnection[] = [];
  const connect = () => {
    const connection = new RawConnection(host.httpUrl);
    connections.push(connection);
    return connection;
  };
  const createShell = () =>
    Buffer.from(
      createShellRequest({ to: host.httpUrl, maxEnvelopeSize: 153600, operationTimeoutSeconds: 20 }),
      "utf8",
    );

  before(async () => {
    lab = await startWinrmLab([account]);
    host = lab.hosts.host(account.name);
  });
  beforeEach(() => host.resetCounters());
  afterEach(() => connections.splice(0).forEach((connection) => connection.close()));
  after(async () => lab?.stop());

  it("runs commands through our client, every envelope sealed", async () => {
    const client = lab.client(host, { url: host.httpUrl });
    const first = await client.runPowerShell('"hello from $env:NPSMFA_HOST_NAME"');
    assert.equal(first.stdout.trim(), `hello from ${host.name}`);
    const second = await client.runPowerShell(
      "Write-Output 'partial'\nWrite-Error 'IAS service not found'\nexit 3",
    );
    assert.equal(second.stdout.trim(), "partial");
    assert.match(second.stderr, /IAS service not found/);
    assert.equal(second.exitCode, 3);
    assert.deepEqual(host.refusedMessages, { unencrypted: 0, unverifiable: 0 });
    assert.ok((host.exchangesByAction.Receive ?? 0) >= 2, "expected the host to read the sealed Receives");
  });

  it("fails, naming the host, when an answer was altered on its way, then recovers on a new connection", async () => {
    const client = lab.client(host, { url: host.httpUrl });
    host.injectFault({ kind: "tamperAnswer", action: "Command" });
    await assert.rejects(
      client.runPowerShell("'first'"),
      (error: Error) =>
        error instanceof WinrmConnectionError &&
        error.message.startsWith(
          `WinRM ${host.name} (${host.httpUrl}): the encrypted answer to Command does not verify`,
        ),
    );
    const again = await client.runPowerShell("'second'");
    assert.equal(again.stdout.trim(), "second");
  });

  it("refuses an unencrypted envelope after the handshake, as Windows does with AllowUnencrypted=false", async () => {
    const connection = connect();
    await connection.handshake(account);
    const shellsBefore = host.openShells;
    const answer = await connection.post(createShell(), {
      "Content-Type": "application/soap+xml;charset=UTF-8",
    });
    assert.equal(answer.status, 401);
    assert.equal(host.refusedMessages.unencrypted, 1);
    assert.equal(host.openShells, shellsBefore, "the unencrypted Create must not run");
  });

  it("refuses an altered message and closes the connection", async () => {
    const connection = connect();
    const sealing = await connection.handshake(account);
    const shellsBefore = host.openShells;
    const body = encryptEnvelope(createShell(), sealing);
    body[body.length - 40] ^= 0x01;
    const answer = await connection.post(body, { "Content-Type": encryptedContentType });
    assert.equal(answer.status, 400);
    await socketClosed(answer.socket);
    assert.equal(host.refusedMessages.unverifiable, 1);
    assert.equal(host.openShells, shellsBefore);
  });

  it("answers a sealed request sealed, and refuses the same request replayed", async () => {
    const connection = connect();
    const sealing = await connection.handshake(account);
    const shellsBefore = host.openShells;
    const body = encryptEnvelope(createShell(), sealing);
    const answer = await connection.post(body, { "Content-Type": encryptedContentType });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-type"], encryptedContentType);
    assert.ok(!answer.body.includes("Envelope"), "the answer must not travel readable");
    assert.ok(parseShellId(decryptEnvelope(answer.body, sealing).toString("utf8")));
    assert.equal(host.openShells, shellsBefore + 1);

    const replayed = await connection.post(body, { "Content-Type": encryptedContentType });
    assert.equal(replayed.status, 400);
    assert.equal(host.refusedMessages.unverifiable, 1);
    assert.equal(host.openShells, shellsBefore + 1, "the replayed Create must not run");
  });

  it("offers only Negotiate over http and refuses Basic, and our client refuses Basic over http", async () => {
    const connection = connect();
    const basic = Buffer.from(`${account.username}:${account.password}`).toString("base64");
    const answer = await connection.post(createShell(), { Authorization: `Basic ${basic}` });
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.headers["www-authenticate"], "Negotiate");
    assert.throws(() => lab.client(host, { url: host.httpUrl, auth: "basic" }), /Basic over http/);
  });
});
