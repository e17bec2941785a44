// Pure parts of the WinRM client and lab server: NTLMv2 against MS-NLMP's published vectors, envelopes
// built by the client and read by the lab (and back), CLIXML, command lines.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { interpretCommandLine, tokenize } from "../../lab/winrm/commandLine";
import {
  commandLineOf,
  faultResponse,
  faults,
  parseDurationSeconds,
  parseRequest,
  receiveResponse,
  sendStreamsOf,
  createResponse,
} from "../../lab/winrm/soap";
import { clixmlToText } from "../../remote/winrm/clixml";
import { encodedCommand, powershellCommandLine } from "../../remote/winrm/client";
import {
  actions,
  commandRequest,
  createShellRequest,
  isOperationTimeout,
  parseFault,
  parseReceiveResponse,
  parseShellId,
  sendRequest,
  stdinChunkBytes,
} from "../../remote/winrm/envelopes";
import {
  authenticateMessage,
  avIds,
  challengeMessage,
  channelBindingHash,
  clientBlob,
  encodeAvPairs,
  negotiateMessage,
  ntowfv2,
  ntProofStr,
  parseAuthenticateMessage,
  parseChallengeMessage,
  parseNegotiateMessage,
  verifyNtlmv2,
} from "../../remote/winrm/ntlm";
import { HttpsTransport, ntlmToken, splitAccount } from "../../remote/winrm/transport";

const common = {
  to: "https://nps01.corp.example.com:5986/wsman",
  maxEnvelopeSize: 153600,
  operationTimeoutSeconds: 20,
};

describe("NTLMv2 (MS-NLMP)", () => {
  // MS-NLMP 4.2.4: user "User", domain "Domain", password "Password", server challenge 0123456789abcdef.
  it("computes NTOWFv2 and NTProofStr as the specification's known-answer vectors", () => {
    const key = ntowfv2("Password", "User", "Domain");
    assert.equal(key.toString("hex"), "0c868a403bfd7a93a3001ef22ef02e3f");
    const targetInfo = encodeAvPairs(
      new Map([
        [avIds.nbDomainName, Buffer.from("Domain", "utf16le")],
        [avIds.nbComputerName, Buffer.from("Server", "utf16le")],
      ]),
    );
    const blob = clientBlob(targetInfo, Buffer.alloc(8), Buffer.alloc(8, 0xaa));
    const proof = ntProofStr(key, Buffer.from("0123456789abcdef", "hex"), blob);
    assert.equal(proof.toString("hex"), "68cd0ab851e51c96aabc927bebef6a1c");
  });

  it("round-trips negotiate, challenge and authenticate; the server accepts only the right password", () => {
    const negotiate = parseNegotiateMessage(negotiateMessage());
    const serverChallenge = Buffer.from("1122334455667788", "hex");
    const challenge = parseChallengeMessage(
      challengeMessage({
        serverChallenge,
        negotiateFlags: negotiate.flags,
        domain: "CORP",
        computer: "NPS01",
      }),
    );
    assert.deepEqual(challenge.serverChallenge, serverChallenge);
    const bindings = channelBindingHash(Buffer.from("not really a certificate"));
    const message = authenticateMessage({
      user: "svc-npsmfa",
      domain: "CORP",
      password: "Winrm-P@ss-1",
      challenge,
      channelBindings: bindings,
    });
    const parsed = parseAuthenticateMessage(message);
    assert.equal(parsed.user, "svc-npsmfa");
    assert.equal(parsed.domain, "CORP");
    const good = verifyNtlmv2(parsed, serverChallenge, "Winrm-P@ss-1");
    assert.equal(good.valid, true);
    assert.deepEqual(good.channelBindings, bindings);
    assert.equal(verifyNtlmv2(parsed, serverChallenge, "Winrm-P@ss-2").valid, false);
    assert.equal(verifyNtlmv2(parsed, Buffer.alloc(8), "Winrm-P@ss-1").valid, false);
  });

  it("splits DOMAIN\\user and keeps a UPN whole", () => {
    assert.deepEqual(splitAccount("CORP\\svc"), { domain: "CORP", user: "svc" });
    assert.deepEqual(splitAccount("svc@corp.example.com"), { domain: "", user: "svc@corp.example.com" });
  });

  it("finds the NTLM token among WWW-Authenticate values", () => {
    assert.equal(ntlmToken(["Negotiate TlRMTVNTUAACAAAA", 'Basic realm="WSMAN"']), "TlRMTVNTUAACAAAA");
    assert.equal(ntlmToken('Negotiate, Basic realm="WSMAN"'), undefined);
  });
});

describe("WS-Management envelopes", () => {
  it("builds requests the lab server reads back: action, shell, options, command line, stdin", () => {
    const create = parseRequest(createShellRequest(common));
    assert.equal(create.action, actions.create);
    assert.equal(create.options.WINRS_CODEPAGE, "65001");
    assert.equal(create.operationTimeoutSeconds, 20);
    assert.equal(create.maxEnvelopeSize, 153600);

    const command = parseRequest(commandRequest(common, "SHELL-1", 'powershell -Command "a & b <c>"'));
    assert.equal(command.shellId, "SHELL-1");
    assert.deepEqual(commandLineOf(command), { command: 'powershell -Command "a & b <c>"', args: [] });

    const send = parseRequest(sendRequest(common, "SHELL-1", "CMD-1", Buffer.from("é 漢字"), true));
    assert.deepEqual(sendStreamsOf(send), [{ commandId: "CMD-1", data: Buffer.from("é 漢字"), end: true }]);
  });

  it("reads the lab server's answers: shell id, streams, exit code, faults", () => {
    const request = parseRequest(createShellRequest(common));
    assert.equal(parseShellId(createResponse(request, common.to, "ABC")), "ABC");
    const running = parseReceiveResponse(
      receiveResponse(request, "C1", { stdout: Buffer.from("out"), stderr: Buffer.alloc(0) }),
    );
    assert.deepEqual([running.stdout.toString(), running.done], ["out", false]);
    const done = parseReceiveResponse(
      receiveResponse(request, "C1", { stdout: Buffer.alloc(0), stderr: Buffer.from("err"), exitCode: 3 }),
    );
    assert.deepEqual([done.stderr.toString(), done.done, done.exitCode], ["err", true, 3]);
    const timedOut = parseFault(faultResponse(request, "nps01", faults.timedOut()));
    assert.ok(timedOut && isOperationTimeout(timedOut));
    const tooLarge = parseFault(faultResponse(request, "nps01", faults.envelopeTooLarge(9, 8)));
    assert.ok(tooLarge && !isOperationTimeout(tooLarge));
    assert.match(tooLarge.reason, /MaxEnvelopeSize/);
    assert.equal(parseFault("not xml at all"), undefined);
  });

  it("sizes stdin chunks so that every Send envelope stays under MaxEnvelopeSize", () => {
    fc.assert(
      fc.property(fc.integer({ min: 8192, max: 1024 * 1024 }), (maxEnvelopeSize) => {
        const chunk = Buffer.alloc(stdinChunkBytes(maxEnvelopeSize), 0xff);
        const envelope = sendRequest(
          { ...common, maxEnvelopeSize },
          "S".repeat(36),
          "C".repeat(36),
          chunk,
          true,
        );
        return Buffer.byteLength(envelope) <= maxEnvelopeSize;
      }),
    );
  });

  it("reads OperationTimeout durations", () => {
    assert.equal(parseDurationSeconds("PT20.000S"), 20);
    assert.equal(parseDurationSeconds("PT1M30S"), 90);
    assert.equal(parseDurationSeconds("twenty"), undefined);
  });
});

describe("CLIXML on stderr", () => {
  it("turns Windows PowerShell's serialized error records into text and drops progress records", () => {
    const stderr =
      "#< CLIXML\r\n" +
      '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN>' +
      '<MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj>' +
      '<S S="Error">Set-ItemProperty : Requested registry access is not allowed._x000D__x000A_</S>' +
      '<S S="Error">At line:1 char:1 &amp; more_x000D__x000A_</S>' +
      '<S S="Warning">IAS restart pending_x000D__x000A_</S></Objs>';
    assert.equal(
      clixmlToText(stderr),
      "Set-ItemProperty : Requested registry access is not allowed.\nAt line:1 char:1 & more\n" +
        "WARNING: IAS restart pending\n",
    );
  });

  it("leaves plain stderr alone except for ANSI colour codes", () => {
    assert.equal(clixmlToText("plain\n\x1b[31;1mred\x1b[0m\n"), "plain\nred\n");
  });
});

describe("lab command lines", () => {
  it("accepts the powershell forms clients send", () => {
    assert.deepEqual(interpretCommandLine("powershell -NoProfile -NonInteractive -Command -"), {
      kind: "powershell",
      source: "stdin",
    });
    assert.deepEqual(interpretCommandLine(`powershell -encodedcommand ${encodedCommand('"é"')}`), {
      kind: "powershell",
      source: "text",
      script: '"é"',
    });
    assert.equal(interpretCommandLine(powershellCommandLine).kind, "powershell");
    assert.deepEqual(interpretCommandLine("powershell.exe", ["-Command", "Write-Output 'hi'"]), {
      kind: "powershell",
      source: "text",
      script: "Write-Output 'hi'",
    });
  });

  it("fails like cmd.exe on unknown programs and over-long lines", () => {
    const unknown = interpretCommandLine("ipconfig /all");
    assert.ok(unknown.kind === "output" && unknown.exitCode === 1 && /not recognized/.test(unknown.stderr));
    const long = interpretCommandLine(`powershell -Command ${"x".repeat(8200)}`);
    assert.ok(long.kind === "output" && /too long/.test(long.stderr));
    const badBase64 = interpretCommandLine("powershell -EncodedCommand not*base64");
    assert.ok(badBase64.kind === "output" && badBase64.exitCode !== 0);
  });

  it("tokenizes with double quotes", () => {
    assert.deepEqual(tokenize('a "b c" d\\"e'), ["a", "b c", 'd"e']);
  });
});

describe("WinRM transport settings", () => {
  it("refuses plain http, and says why Basic over http is never acceptable", () => {
    assert.throws(
      () =>
        new HttpsTransport({
          url: "http://nps01:5985/wsman",
          auth: "ntlm",
          username: "u",
          password: "secret-1",
        }),
      /message encryption over http is not implemented/,
    );
    assert.throws(
      () =>
        new HttpsTransport({
          url: "http://nps01:5985/wsman",
          auth: "basic",
          username: "u",
          password: "secret-1",
        }),
      (error: Error) => /Basic/.test(error.message) && !error.message.includes("secret-1"),
    );
  });
});
