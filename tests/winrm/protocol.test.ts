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
  decryptEnvelope,
  EncryptedMessageError,
  encryptEnvelope,
  isEncryptedContentType,
  encryptedContentType,
} from "../../remote/winrm/encryptedMessage";
import {
  NtlmSealing,
  Rc4,
  rc4k,
  sealingKey,
  sessionBaseKey,
  signingKey,
} from "../../remote/winrm/ntlmSession";
import {
  authenticate,
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
import { WsmanHttpTransport, ntlmToken, splitAccount } from "../../remote/winrm/transport";

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

  // MS-NLMP 4.2.4 with 4.2.1's RandomSessionKey (0x55 x 16): session keys, key exchange and GSS_WrapEx.
  it("derives the session keys and seals as the specification's NTLMv2 known-answer vectors", () => {
    const responseKey = ntowfv2("Password", "User", "Domain");
    const baseKey = sessionBaseKey(responseKey, Buffer.from("68cd0ab851e51c96aabc927bebef6a1c", "hex"));
    assert.equal(baseKey.toString("hex"), "8de40ccadbc14a82f15cb0ad0de95ca3");
    const randomSessionKey = Buffer.alloc(16, 0x55);
    assert.equal(rc4k(baseKey, randomSessionKey).toString("hex"), "c5dad2544fc9799094ce1ce90bc9d03e");
    assert.equal(
      sealingKey(randomSessionKey, "client-to-server").toString("hex"),
      "59f600973cc4960a25480a7c196e4c58",
    );
    assert.equal(
      signingKey(randomSessionKey, "client-to-server").toString("hex"),
      "4788dc861b4782f35d43fd98fe1a2d39",
    );
    const wrapped = new NtlmSealing(randomSessionKey, "client").seal(Buffer.from("Plaintext", "utf16le"));
    assert.equal(wrapped.sealed.toString("hex"), "54e50165bf1936dc996020c1811b0f06fb5f");
    assert.equal(wrapped.signature.toString("hex"), "010000007fb38ec5c55d497600000000");
  });

  it("runs RC4 as its published test vector (key 'Key', plaintext 'Plaintext')", () => {
    assert.equal(
      new Rc4(Buffer.from("Key")).update(Buffer.from("Plaintext")).toString("hex"),
      "bbf316e8d940af0ad3",
    );
  });

  it("carries the session key in AUTHENTICATE: client and server end with the same sealing keys", () => {
    const serverChallenge = Buffer.from("8877665544332211", "hex");
    const challenge = parseChallengeMessage(
      challengeMessage({
        serverChallenge,
        negotiateFlags: parseNegotiateMessage(negotiateMessage({ seal: true })).flags,
        domain: "CORP",
        computer: "NPS01",
      }),
    );
    const client = authenticate({
      user: "svc",
      domain: "CORP",
      password: "Winrm-P@ss-1",
      challenge,
      seal: true,
    });
    const verification = verifyNtlmv2(
      parseAuthenticateMessage(client.message),
      serverChallenge,
      "Winrm-P@ss-1",
    );
    assert.ok(client.exportedSessionKey);
    assert.deepEqual(verification.exportedSessionKey, client.exportedSessionKey);
    const clientSide = new NtlmSealing(client.exportedSessionKey, "client");
    const serverSide = new NtlmSealing(verification.exportedSessionKey!, "server");
    for (const text of ["first", "second"]) {
      const { sealed, signature } = clientSide.seal(Buffer.from(text));
      assert.equal(serverSide.unseal(sealed, signature).toString(), text);
      const answer = serverSide.seal(Buffer.from(`re: ${text}`));
      assert.equal(clientSide.unseal(answer.sealed, answer.signature).toString(), `re: ${text}`);
    }
  });

  it("refuses to seal when the server does not grant sealing", () => {
    const challenge = parseChallengeMessage(
      challengeMessage({
        serverChallenge: Buffer.alloc(8, 1),
        negotiateFlags: parseNegotiateMessage(negotiateMessage()).flags,
        domain: "CORP",
        computer: "NPS01",
      }),
    );
    assert.throws(
      () => authenticate({ user: "svc", domain: "CORP", password: "p", challenge, seal: true }),
      /sealing/,
    );
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

describe("Encrypted WinRM messages (MS-WSMV 2.2.9.1.1)", () => {
  const pair = () => {
    const key = Buffer.alloc(16, 0x42);
    return { client: new NtlmSealing(key, "client"), server: new NtlmSealing(key, "server") };
  };
  const envelope = Buffer.from(
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">é</s:Envelope>',
  );

  it("frames a sealed envelope as two MIME parts that the other side opens", () => {
    const { client, server } = pair();
    const body = encryptEnvelope(envelope, client);
    const text = body.toString("latin1");
    assert.ok(
      text.startsWith(
        "--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n",
      ),
    );
    assert.match(
      text,
      new RegExp(`OriginalContent: type=application/soap\\+xml;charset=UTF-8;Length=${envelope.length}\r\n`),
    );
    assert.ok(text.endsWith("--Encrypted Boundary--\r\n"));
    assert.ok(!body.includes("Envelope"), "the envelope must not travel readable");
    assert.deepEqual(decryptEnvelope(body, server), envelope);
    assert.ok(isEncryptedContentType(encryptedContentType));
    assert.ok(!isEncryptedContentType("application/soap+xml;charset=UTF-8"));
  });

  it("refuses an altered, replayed or truncated message", () => {
    const altered = pair();
    const body = encryptEnvelope(envelope, altered.client);
    body[body.length - 30] ^= 1;
    assert.throws(() => decryptEnvelope(body, altered.server), EncryptedMessageError);

    const replayed = pair();
    const first = encryptEnvelope(envelope, replayed.client);
    decryptEnvelope(first, replayed.server);
    assert.throws(() => decryptEnvelope(first, replayed.server), /sequence number 1/);

    const truncated = pair();
    const whole = encryptEnvelope(envelope, truncated.client);
    assert.throws(
      () => decryptEnvelope(whole.subarray(0, whole.length - 40), truncated.server),
      EncryptedMessageError,
    );
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
  it("takes plain http with ntlm only, and says why Basic over http is never acceptable", () => {
    assert.doesNotThrow(
      () =>
        new WsmanHttpTransport({
          url: "http://nps01:5985/wsman",
          auth: "ntlm",
          username: "u",
          password: "secret-1",
        }),
    );
    assert.throws(
      () =>
        new WsmanHttpTransport({
          url: "http://nps01:5985/wsman",
          auth: "basic",
          username: "u",
          password: "secret-1",
        }),
      (error: Error) => /Basic/.test(error.message) && !error.message.includes("secret-1"),
    );
  });
});
