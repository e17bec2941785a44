// Issue 14, defects 2 and 3: every WinRM error names the host as the stack calls it (not only an IP-based
// URL), and winrm.operationTimeoutSeconds bounds the whole operation, cleanup included, plus a fixed
// margin, against a host that accepts TCP or TLS and never answers.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { issueServerCertificate } from "../../lab/tls";
import { commandResponse, createResponse, parseRequest } from "../../lab/winrm/soap";
import {
  WinrmClient,
  WinrmCommandTimeoutError,
  WinrmError,
  WinrmNoAnswerError,
  type SoapTransport,
} from "../../remote/winrm";
import { actions } from "../../remote/winrm/envelopes";
import { cleanupMarginMs } from "../../remote/winrm/shell";
import type { HttpAnswer } from "../../remote/winrm/transport";
import { startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";

const stackName = "nps07.corp.example.com";

/** A listener that accepts connections (and, with a certificate, completes TLS) and never answers. */
async function silentListener(certificate?: { keyPem: string; certPem: string }): Promise<{
  port: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const keep = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  const server = certificate
    ? tls.createServer({ key: certificate.keyPem, cert: certificate.certPem }, keep)
    : net.createServer(keep);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface RecordedPost {
  what: string;
  /** When the client handed the request over, and how long it allowed for an answer. */
  at: number;
  timeoutMs: number;
}

/** A host that answers the actions in `answering` and never answers the others (the request times out). */
function hangingTransport(answering: string[], posts: RecordedPost[]): SoapTransport {
  return {
    post(envelope: string, what: string, timeoutMs: number): Promise<HttpAnswer> {
      posts.push({ what, at: Date.now(), timeoutMs });
      const request = parseRequest(envelope);
      if (answering.includes(request.action)) {
        const body =
          request.action === actions.create
            ? createResponse(request, "http://127.0.0.1/wsman", "SHELL-1")
            : commandResponse(request, "COMMAND-1");
        return Promise.resolve({ status: 200, body });
      }
      return new Promise((_, reject) =>
        setTimeout(
          () =>
            reject(new WinrmNoAnswerError({ url: "http://127.0.0.1/wsman" }, `no answer to ${what}`, what)),
          timeoutMs,
        ),
      );
    },
    close: () => undefined,
  };
}

describe("WinRM operations: errors name the host, the configured time bounds everything", function () {
  this.timeout(120_000);
  const account: LabAccount = {
    name: stackName,
    username: "CORP\\svc-npsmfa",
    password: "Nps-Bounds-P@ss-7",
    auth: "ntlm",
  };
  let lab: WinrmLab;
  before(async () => {
    lab = await startWinrmLab([account]);
  });
  after(async () => lab?.stop());

  it("names the host as the stack calls it in every kind of failure, beside the URL", async () => {
    const host = lab.hosts.host(stackName);
    const failures: unknown[] = [];
    const capture = (promise: Promise<unknown>) =>
      promise.then(
        () => assert.fail("expected a failure"),
        (e) => e,
      );
    // Authentication refused, TLS refused, a fault, nothing listening, a command line too long.
    failures.push(await capture(lab.client(host, {}, { password: "wrong" }).runPowerShell("'x'")));
    failures.push(await capture(lab.client(host, { caFile: undefined }).runPowerShell("'x'")));
    failures.push(
      await capture(
        lab.client(host, {}, { maxEnvelopeSize: 600 * 1024 }).runCommand("echo x", Buffer.alloc(700 * 1024)),
      ),
    );
    const closed = await silentListener();
    await closed.close();
    failures.push(
      await capture(lab.client(host, { url: `https://127.0.0.1:${closed.port}/wsman` }).runPowerShell("'x'")),
    );
    failures.push(await capture(lab.client(host).runCommand("x".repeat(9000))));
    for (const failure of failures) {
      assert.ok(failure instanceof Error);
      assert.match(
        failure.message,
        new RegExp(`^WinRM ${stackName.replace(/\./g, "\\.")} \\(https://127\\.0\\.0\\.1:\\d+/wsman\\): `),
      );
      assert.doesNotMatch(failure.message, new RegExp(account.password));
      if (failure instanceof WinrmError) assert.equal(failure.hostname, stackName);
    }
  });

  for (const kind of ["TCP", "TLS"] as const) {
    it(`fails within winrm.operationTimeoutSeconds against a host that accepts ${kind} and never answers`, async () => {
      const listener = await silentListener(
        kind === "TLS" ? issueServerCertificate(lab.ca, ["127.0.0.1", stackName]) : undefined,
      );
      try {
        const client = new WinrmClient({
          hostname: stackName,
          password: account.password,
          endpoint: {
            url: `https://127.0.0.1:${listener.port}/wsman`,
            auth: "ntlm",
            username: account.username,
            caFile: lab.ca.certFile,
            operationTimeoutSeconds: 5,
          },
        });
        const error = await client.runPowerShell("'x'").then(
          () => assert.fail("expected a failure"),
          (e: unknown) => e,
        );
        await client.close();
        assert.ok(error instanceof WinrmCommandTimeoutError, String(error));
        assert.match(error.message, new RegExp(`^WinRM ${stackName.replace(/\./g, "\\.")} \\(`));
        assert.match(
          error.message,
          /within winrm\.operationTimeoutSeconds \(5 s, cleanup 5 s more\), found no answer to Create shell/,
        );
      } finally {
        await listener.close();
      }
    });
  }

  for (const answering of [[actions.create], [actions.create, actions.command]]) {
    const hangsAt = answering.length === 1 ? "Command" : "Receive";
    it(`gives no request, cleanup included, time past the configured bound plus ${cleanupMarginMs / 1000} s (host silent from ${hangsAt})`, async () => {
      const posts: RecordedPost[] = [];
      const limitSeconds = 2;
      const client = new WinrmClient({
        hostname: stackName,
        endpoint: { url: "http://127.0.0.1/wsman", auth: "ntlm", operationTimeoutSeconds: limitSeconds },
        transport: hangingTransport(answering, posts),
      });
      const start = Date.now();
      const error = await client.runPowerShell("'x'").then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
      await client.close();
      assert.ok(error instanceof WinrmCommandTimeoutError, String(error));
      assert.ok(
        posts.some((post) => post.what === "Delete shell"),
        "expected the shell's cleanup to be tried",
      );
      // The bound is on what the client allowed each request, computed from its own clock: never past the end.
      const end = start + limitSeconds * 1000 + cleanupMarginMs;
      for (const post of posts) {
        assert.ok(
          post.at + post.timeoutMs <= end + 100,
          `${post.what} was allowed until ${post.at + post.timeoutMs - start} ms, past ${end - start} ms`,
        );
      }
    });
  }
});
