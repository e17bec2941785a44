// What crosses the network when WinRM runs over plain HTTP: tcpdump (Debian's, installed by .ci/run)
// records the loopback traffic of our client and of pywinrm talking to the lab's HTTP listener, and the
// test reads the TCP payloads back out of the pcap file. After the NTLM handshake nothing readable may
// travel: no SOAP, no script, no output; every WS-Management request is a multipart/encrypted body.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import type { LabWinrmHost } from "../../lab/winrm";
import { startWinrmLab, type LabAccount, type WinrmLab } from "./labFixture";
import { runPywinrm, writeLegacyOpensslConfig } from "./pywinrmRunner";

const tcpdump = "/usr/bin/tcpdump";

interface TcpSegment {
  sourcePort: number;
  destinationPort: number;
  payload: Buffer;
}

/** TCP payloads of a classic pcap file (Ethernet, Linux cooked v1/v2 link types; IPv4 and IPv6). */
function tcpSegments(pcap: Buffer): TcpSegment[] {
  const magic = pcap.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (at: number) => (little ? pcap.readUInt32LE(at) : pcap.readUInt32BE(at));
  const linkType = u32(20);
  const linkHeader: Record<number, number> = { 1: 14, 113: 16, 276: 20 };
  const skip = linkHeader[linkType];
  if (skip === undefined) throw new Error(`unexpected pcap link type ${linkType}`);
  const segments: TcpSegment[] = [];
  for (let at = 24; at + 16 <= pcap.length;) {
    const captured = u32(at + 8);
    if (at + 16 + captured > pcap.length) break; // a record still being written
    const packet = pcap.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    const ip = packet.subarray(skip);
    const version = ip[0] >> 4;
    const ipHeader = version === 4 ? (ip[0] & 0x0f) * 4 : 40;
    const protocol = version === 4 ? ip[9] : ip[6];
    if (protocol !== 6) continue;
    const tcp = ip.subarray(ipHeader);
    const payload = tcp.subarray((tcp[12] >> 4) * 4);
    if (payload.length === 0) continue;
    segments.push({ sourcePort: tcp.readUInt16BE(0), destinationPort: tcp.readUInt16BE(2), payload });
  }
  return segments;
}

interface Capture {
  /** The pcap bytes received so far. */
  bytes(): Buffer;
  /** Resolves once the capture satisfies `done`, checked as each chunk of the pcap stream arrives. */
  until(done: (pcap: Buffer) => boolean): Promise<void>;
  stop(): Promise<void>;
}

/** tcpdump writing the pcap to its stdout, packet by packet (-U), so the test sees each packet arrive. */
function startCapture(port: number): Promise<Capture> {
  return new Promise((resolve, reject) => {
    const child = spawn(tcpdump, ["-i", "lo", "-U", "-n", "-s", "0", "-w", "-", `tcp port ${port}`]);
    const chunks: Buffer[] = [];
    let waiters: { done: (pcap: Buffer) => boolean; resolve: () => void }[] = [];
    const bytes = () => Buffer.concat(chunks);
    const check = () => {
      const pcap = bytes();
      waiters = waiters.filter((waiter) => (waiter.done(pcap) ? (waiter.resolve(), false) : true));
    };
    child.stdout.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      check();
    });
    let stderr = "";
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`tcpdump exited ${code} before capturing: ${stderr}`)));
    // tcpdump says "listening on lo" once its filter is in place: from then on nothing is missed.
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!stderr.includes("listening on")) return;
      resolve({
        bytes,
        until: (done) =>
          new Promise<void>((resolveWait) => {
            waiters.push({ done, resolve: resolveWait });
            check();
          }),
        stop: () =>
          new Promise<void>((resolveStop) => {
            child.removeAllListeners("exit");
            child.once("exit", () => resolveStop());
            child.kill("SIGINT");
          }),
      });
    });
  });
}

/** Every way a marker could show up readable: as text, UTF-16, or inside base64 at any alignment. */
function readableForms(marker: string): Buffer[] {
  const forms = [Buffer.from(marker, "utf8"), Buffer.from(marker, "utf16le")];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.from("x".repeat(shift) + marker, "utf8").toString("base64");
    // Drop the characters that mix with neighbouring bytes at either end.
    forms.push(Buffer.from(encoded.slice(Math.ceil((shift * 4) / 3) + 1, -4), "latin1"));
  }
  return forms;
}

const encryptedRequestHeader =
  'Content-Type: multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"';
const closingBoundary = "--Encrypted Boundary--";

/** Payload bytes sent to the listener and from it, each in capture order. */
function directions(segments: TcpSegment[], port: number): { toHost: Buffer; fromHost: Buffer } {
  return {
    toHost: Buffer.concat(segments.filter((s) => s.destinationPort === port).map((s) => s.payload)),
    fromHost: Buffer.concat(segments.filter((s) => s.sourcePort === port).map((s) => s.payload)),
  };
}

function count(haystack: Buffer, needle: string): number {
  let found = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) found += 1;
  return found;
}

describe("WinRM over plain HTTP on the wire (tcpdump on loopback)", function () {
  this.timeout(240_000);
  const account: LabAccount = {
    name: "nps04.corp.example.com",
    username: "CORP\\svc-npsmfa",
    password: "Nps-Wire-P@ss-6",
    auth: "ntlm",
  };
  let lab: WinrmLab;
  let host: LabWinrmHost;

  before(async function () {
    if (!fs.existsSync(tcpdump)) {
      throw new Error(`${tcpdump} not found: install Debian's tcpdump (.ci/run does)`);
    }
    lab = await startWinrmLab([account]);
    host = lab.hosts.host(account.name);
  });
  after(async () => lab?.stop());

  it("carries no plaintext SOAP, script or output after the handshake, from our client or pywinrm", async () => {
    const marker = "CanaryMarker7Qx";
    const script = `$value = '${marker}-script'; "${marker}-output " + $value.Length`;
    const capture = await startCapture(host.httpPort);
    let ours;
    let theirs;
    try {
      ours = await lab.client(host, { url: host.httpUrl }).runPowerShell(script);
      await lab.closeClients();
      theirs = await runPywinrm(
        {
          url: host.httpUrl,
          auth: "ntlm",
          username: account.username,
          password: account.password,
          caFile: lab.ca.certFile,
          messageEncryption: "always",
          scripts: [script],
        },
        writeLegacyOpensslConfig(lab.dir),
      );
      // Stop only once tcpdump has handed over every request the host ran and the answer to each.
      const requests = Object.values(host.exchangesByAction).reduce((sum, n) => sum + n, 0);
      await capture.until((pcap) => {
        const { toHost, fromHost } = directions(tcpSegments(pcap), host.httpPort);
        return (
          count(toHost, encryptedRequestHeader) >= requests && count(fromHost, closingBoundary) >= requests
        );
      });
    } finally {
      await capture.stop();
    }
    // Both really ran the script (so its text and output did cross the wire, sealed).
    assert.match(ours.stdout, new RegExp(`${marker}-output 22`));
    assert.match(theirs[0].stdout, new RegExp(`${marker}-output 22`));

    const { toHost, fromHost } = directions(tcpSegments(capture.bytes()), host.httpPort);
    const wire = Buffer.concat([toHost, fromHost]);
    // The capture holds the exchanges: NTLM handshakes (two clients), then sealed bodies both ways.
    assert.ok(count(toHost, "Authorization: Negotiate TlRMTVNTUAAB") >= 2, "expected both NTLM handshakes");
    const requests = Object.values(host.exchangesByAction).reduce((sum, n) => sum + n, 0);
    assert.ok(requests >= 8, `expected the host to have run both clients' requests, found ${requests}`);
    assert.equal(
      count(toHost, encryptedRequestHeader),
      requests,
      "every WS-Management request the host ran must have crossed the wire encrypted",
    );
    assert.ok(count(fromHost, closingBoundary) >= requests, "every answer must be encrypted");

    for (const plaintext of [
      "Envelope",
      "http://www.w3.org/2003/05/soap-envelope",
      "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
      "CommandLine",
      "ExitCode",
      ...readableForms(marker).map((form) => form.toString("latin1")),
    ]) {
      assert.equal(
        wire.indexOf(Buffer.from(plaintext, "latin1")),
        -1,
        `found ${JSON.stringify(plaintext)} on the wire`,
      );
    }
    assert.equal(
      wire.indexOf(Buffer.from(account.password, "utf8")),
      -1,
      "the password must not cross the wire",
    );
  });
});
