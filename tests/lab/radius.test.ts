// The lab's NPS servers answer real RADIUS, and fail for the article's reasons: judged by Debian's
// radclient (freeradius-utils) and by VPN dials, with the events Windows would log.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { RunningLab, startLab } from "../../lab/cli";
import {
  accessAnswer,
  accessRequest,
  answerIsAuthentic,
  decodeRadius,
  decryptUserPassword,
  encodeRadius,
  radiusCodes,
  requestIsAuthentic,
  requestProtocol,
  vendorAttributeOf,
} from "../../lab/radius/packet";
import {
  authenticatorResponse,
  challengeHash,
  decodeMsChap2Response,
  encodeMsChap2Response,
  generateNtResponse,
  microsoftAttributes,
  microsoftVendorId,
  ntPasswordHash,
  ntResponseMatches,
} from "../../lab/radius/mschapv2";
import { NpsProxyServer } from "../../lab/radius/npsProxy";
import { askServer, clientEventLog, dialInLab } from "../../lab/radius/vpnDial";
import { hostEvents, loggedHostEvents, readEvents } from "../../lab/windows/eventLog";
import { extensionCertificate } from "../../lab/radius/npsExtension";
import {
  azureMfaKey,
  installExtension,
  radiusProxyHost,
  readHostState,
  selfSignedNpsCertificate,
  startIas,
  updateHostState,
  writeHostState,
} from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";
import { runHostScript } from "../../remote/hostScripts";

describe("lab RADIUS packets (RFC 2865, RFC 3579)", () => {
  const secret = "s3cret";
  const request = accessRequest({
    identifier: 7,
    userName: "alice",
    credentials: { protocol: "pap", password: "a password longer than sixteen bytes" },
    secret,
    nasIdentifier: "vpn01",
  });

  it("hides the PAP password so only the secret recovers it", () => {
    const decoded = decodeRadius(encodeRadius(request));
    const hidden = decoded.attributes.find((attribute) => attribute.type === 2)!.value;
    assert.equal(hidden.length, 48);
    assert.equal(
      decryptUserPassword(hidden, secret, decoded.authenticator),
      "a password longer than sixteen bytes",
    );
    assert.notEqual(
      decryptUserPassword(hidden, "other", decoded.authenticator),
      "a password longer than sixteen bytes",
    );
  });

  it("a Message-Authenticator checks with the secret and fails with another or after tampering", () => {
    const decoded = decodeRadius(encodeRadius(request));
    assert.equal(requestIsAuthentic(decoded, secret), true);
    assert.equal(requestIsAuthentic(decoded, "other"), false);
    const bytes = encodeRadius(request);
    bytes[bytes.length - 20] ^= 1;
    assert.equal(requestIsAuthentic(decodeRadius(bytes), secret), false);
  });

  it("an answer is authentic only for its request and secret", () => {
    const answer = accessAnswer(request, radiusCodes.accessAccept, secret);
    assert.equal(answerIsAuthentic(answer, request, secret), true);
    assert.equal(answerIsAuthentic(answer, request, "other"), false);
    const forged = Buffer.from(answer);
    forged[0] = radiusCodes.accessReject;
    assert.equal(answerIsAuthentic(forged, request, secret), false);
  });
});

describe("lab MS-CHAPv2 (RFC 2759)", () => {
  // RFC 2759 §9.2, "Examples of MS-CHAP-V2 Computations": User, clientPass, and the two challenges.
  const authenticatorChallenge = Buffer.from("5B5D7C7D7B3F2F3E3C2C602132262628", "hex");
  const peerChallenge = Buffer.from("21402324255E262A28295F2B3A337C7E", "hex");

  it("computes the RFC's example values", () => {
    assert.equal(
      challengeHash(peerChallenge, authenticatorChallenge, "User").toString("hex"),
      "d02e4386bce91226",
    );
    assert.equal(ntPasswordHash("clientPass").toString("hex"), "44ebba8d5312b8d611474411f56989ae");
    const ntResponse = generateNtResponse(authenticatorChallenge, peerChallenge, "User", "clientPass");
    assert.equal(ntResponse.toString("hex"), "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df");
    assert.equal(
      authenticatorResponse("clientPass", ntResponse, peerChallenge, authenticatorChallenge, "User"),
      "S=407A5589115FD0D6209F510FE9C04566932CDA56",
    );
  });

  it("carries the response in RFC 2548's vendor attributes, and only the right password matches it", () => {
    const ntResponse = generateNtResponse(authenticatorChallenge, peerChallenge, "User", "clientPass");
    const request = decodeRadius(
      encodeRadius(
        accessRequest({
          identifier: 1,
          userName: "User",
          credentials: {
            protocol: "mschapv2",
            challenge: authenticatorChallenge,
            response: encodeMsChap2Response({ ident: 9, peerChallenge, ntResponse }),
          },
          secret: "s3cret",
          nasIdentifier: "vpn01",
        }),
      ),
    );
    assert.equal(requestProtocol(request), "mschapv2");
    const response = decodeMsChap2Response(
      vendorAttributeOf(request, microsoftVendorId, microsoftAttributes.msChap2Response)!,
    )!;
    assert.equal(response.ident, 9);
    assert.equal(ntResponseMatches(response, authenticatorChallenge, "User", "clientPass"), true);
    assert.equal(ntResponseMatches(response, authenticatorChallenge, "User", "clientpass"), false);
  });
});

describe("lab NPS extension: the certificate it signs with, by version", () => {
  const tenant = "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40";
  const pinned = selfSignedNpsCertificate(tenant, { notAfter: new Date(Date.now() + 100 * 86_400_000) });
  const longest = selfSignedNpsCertificate(tenant);
  const loaded = {
    startedAt: new Date().toISOString(),
    settings: { TENANT_ID: tenant, CLIENT_CERT_IDENTIFIER: pinned.thumbprint },
    certificates: [pinned, longest],
  };
  const chosen = (version: string) => {
    const outcome = extensionCertificate(loaded, new Date(), version);
    return "certificate" in outcome ? outcome.certificate.thumbprint : outcome.problem;
  };

  it("follows CLIENT_CERT_IDENTIFIER from 1.2.2893.1, and before it takes the valid one lasting longest", () => {
    assert.equal(chosen("1.2.2893.1"), pinned.thumbprint);
    assert.equal(chosen("1.2.10000.0"), pinned.thumbprint);
    assert.equal(chosen("1.2.2216.1"), longest.thumbprint, "older extensions ignore the thumbprint");
  });
});

/** radclient's verdict: "Access-Accept", "Access-Reject", "Access-Challenge" or "no answer". */
function radclient(port: number, secret: string, user: string, password: string, waitSeconds: number) {
  const attributes = `User-Name = "${user}"\nUser-Password = "${password}"\nMessage-Authenticator = 0x00\n`;
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      "radclient",
      ["-x", "-t", String(waitSeconds), "-r", "1", `127.0.0.1:${port}`, "auth", secret],
      (error, stdout) => {
        const verdict = /Received (Access-Accept|Access-Reject|Access-Challenge)/.exec(stdout)?.[1];
        if (verdict) return resolve(verdict);
        if (/No reply from server/.test(stdout) || error) return resolve("no answer");
        reject(new Error(`radclient said: ${stdout}`));
      },
    );
    child.stdin!.end(attributes);
  });
}

describe("lab NPS servers answer RADIUS as NPS with the MFA extension does", function () {
  this.timeout(240_000);
  let dir: string;
  let lab: RunningLab;
  const host = (name: string) => lab.description.hosts.find((entry) => entry.name === name)!;
  const alice = () => lab.description.users.find((user) => user.name === "alice")!;
  const events = (name: string, logName: string, id: number) =>
    hostEvents(host(name).stateFile, readHostState(host(name).stateFile).events, { logName, id });

  afterEach(async () => {
    await lab?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(seed: "article" | "healthy", approvalSeconds: number) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-radius-"));
    lab = await startLab({ dir, projectDir: dir, nps: 1, vpn: 1, seed, approvalSeconds });
  }

  it("article seed: radclient gets no answer, a dial fails, AuthZ 3 (AADSTS7000112) and 6274 are logged, and RasClient 20227 on the client, not the VPN host", async () => {
    await start("article", 1);
    for (const name of ["nps01", "vpn01"]) assert.deepEqual(readHostState(host(name).stateFile).events, []);
    const { port, secret } = host("nps01").radius!;
    assert.equal(await radclient(port, secret, "alice", alice().password, 3), "no answer");

    const result = await dialInLab(lab.description, "vpn01", "alice", lab.dir);
    assert.equal(result.outcome, "failed");
    assert.deepEqual(result.attempts, [{ server: "nps01", timeoutSeconds: 5, outcome: "no answer" }]);
    const authz = events("nps01", "AuthZAdminCh", 3);
    assert.ok(authz.length >= 2, "every request made the extension fail");
    for (const event of authz) {
      assert.equal(event.level, 2);
      assert.match(
        event.message,
        /ESTS_TOKEN_ERROR.*AADSTS7000112: Application '981f26a1-7f43-403b-a875-f8b09b8cd720'/,
      );
    }
    assert.ok(events("nps01", "Security", 6274).length >= 2);
    const clientFailures = () => readEvents(clientEventLog(dir)).filter((event) => event.id === 20227);
    assert.deepEqual(
      clientFailures().map((event) => [event.logName, event.providerName]),
      [["Application", "RasClient"]],
    );
    assert.match(
      clientFailures()[0].message,
      /which has failed\. The error code returned on failure is 0\.$/,
    );
    assert.deepEqual(result.clientEvents, clientFailures());
    assert.deepEqual(
      loggedHostEvents(host("vpn01").stateFile),
      [],
      "the client's event reached the VPN host",
    );

    // The same dial as a person types it: `npm run lab -- dial vpn01 alice --dir <lab>`.
    const cli = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", "lab/cli.ts", "dial", "vpn01", "alice", "--dir", dir],
        { cwd: path.resolve(__dirname, "..", "..") },
        (_error, stdout) => resolve({ code: child.exitCode, stdout }),
      );
    });
    assert.equal(cli.code, 1);
    assert.match(
      cli.stdout,
      /nps01 \(RADIUS timeout 5 s\): no answer\nvpn01: alice failed\nEvents it left:\n/,
    );
    // One line per event, the client's last, then where to look next.
    assert.match(cli.stdout, /^ {2}nps01 AuthZAdminCh 3: ESTS_TOKEN_ERROR AADSTS7000112: .*$/m);
    assert.match(
      cli.stdout,
      /^ {2}nps01 Security 6274: Network Policy Server discarded the request for a user\. \(reason code \d+\)$/m,
    );
    assert.match(
      cli.stdout,
      /^ {2}client Application 20227: The user alice dialed a connection named Always On VPN which has failed\. \(error code 0\)\nWhy: npm run doctor -- --lab .+ --user alice@lab\.example\.com\n$/m,
    );
    assert.equal(clientFailures().length, 2);
  });

  it("healthy: radclient gets Access-Accept after the approval, Access-Reject for an unknown user or wrong password; through a proxy only once its IAS was reset", async () => {
    await start("healthy", 2);
    const { port, secret } = host("nps01").radius!;
    assert.equal(await radclient(port, secret, "alice", alice().password, 30), "Access-Accept");
    assert.equal(await radclient(port, secret, "mallory", "guess", 30), "Access-Reject");
    assert.equal(await radclient(port, secret, "alice", "wrong", 30), "Access-Reject");
    assert.equal(await radclient(port, "not-the-secret", "alice", alice().password, 3), "no answer");
    assert.equal(events("nps01", "Security", 6272).length, 1);
    assert.deepEqual(events("nps01", "AuthZAdminCh", 3), []);

    // A RADIUS proxy (NPS without the extension) in front of nps01, its IAS started with a 1 s forwarding
    // timeout: shorter than the approval, so it drops the request and the VPN server hears nothing.
    const proxyState = path.join(dir, "proxy01.json");
    writeHostState(proxyState, radiusProxyHost("proxy01", ["nps01"], 1));
    const proxy = await NpsProxyServer.start({
      hostname: "proxy01",
      stateFile: proxyState,
      port: 0,
      secret: "vpn-to-proxy",
      upstream: { nps01: { port, secret } },
    });
    const dialThroughProxy = async () => {
      const gaveUp = new AbortController();
      const forwarded = proxy.nextHandled().then((request) => {
        if (request.outcome === "dropped") gaveUp.abort();
        return request;
      });
      const options = { vpnHostname: "vpn01", user: "alice", password: alice().password };
      const outcome = await askServer(proxy.endpoint, options, 120_000, gaveUp.signal);
      return { outcome, attempts: (await forwarded).attempts };
    };
    try {
      // Raised to 60 s (blackout too) through the SDO API with Apply and no reset, as this tool used to.
      const runner = labHostRunner("proxy01", proxyState);
      const applied = await runner.runPowerShell(
        "$machine = New-Object -ComObject IAS.SdoMachine; $machine.Attach($null)\n" +
          "foreach ($group in @($machine.GetServiceSDO(0, 'IAS').GetProperty(0x400))) {\n" +
          "  foreach ($server in @($group.GetProperty(0x400))) { $server.PutProperty(0x408, 60); $server.PutProperty(0x40A, 60); $server.Apply() }\n}",
      );
      assert.equal(applied.exitCode, 0, applied.stderr);
      assert.deepEqual(readHostState(proxyState).remoteRadiusServerGroups[0].servers, [
        { address: "nps01", timeout: 60, blackout: 60 },
      ]);
      const before = await dialThroughProxy();
      assert.equal(before.outcome, "no answer");
      assert.deepEqual(before.attempts, [{ address: "nps01", timeoutSeconds: 1 }]);

      // The tool finds the reset pending (nothing else to change) and resets IAS: the same dial connects.
      const data = { npsServers: [], timeoutSeconds: 60, remoteServerGroups: true };
      const pending = await runHostScript<{ drift: unknown[]; resetPending: boolean }>(
        runner,
        "proxy01",
        "RadiusTimeout",
        { mode: "get", ...data },
      );
      assert.deepEqual([pending.drift, pending.resetPending], [[], true]);
      const set = await runHostScript<{ changed: string[]; reset: boolean }>(
        runner,
        "proxy01",
        "RadiusTimeout",
        {
          mode: "set",
          ...data,
        },
      );
      assert.deepEqual([set.changed, set.reset], [[], true]);
      const after = await dialThroughProxy();
      assert.equal(after.outcome, "accepted");
      assert.deepEqual(after.attempts, [{ address: "nps01", timeoutSeconds: 60 }]);
    } finally {
      await proxy.stop();
    }
  });

  it("each cause alone makes a dial fail with its own AADSTS code", async () => {
    await start("healthy", 0);
    updateHostState(host("vpn01").stateFile, (state) =>
      state.remoteAccessRadius.forEach((entry) => (entry.timeout = 5)),
    );
    assert.equal((await dialInLab(lab.description, "vpn01", "alice", lab.dir)).outcome, "connected");
    const client = lab.graph.servicePrincipal(mfaClientAppId)!;
    const causes: [string, () => Promise<void>, RegExp][] = [
      [
        "Client disabled",
        () => lab.graph.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, accountEnabled: false })),
        /AADSTS7000112: Application '981f26a1/,
      ],
      [
        "Connector disabled",
        () => lab.graph.changeServicePrincipal(mfaConnectorAppId, (sp) => ({ ...sp, accountEnabled: false })),
        /AADSTS500014: The service principal for resource '1f5530b3-261a-47a9-b357-ded261e17918' is disabled/,
      ],
      [
        "certificate not registered",
        () => lab.graph.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, keyCredentials: [] })),
        /AADSTS700027: .*The key was not found/,
      ],
      [
        "certificate expired",
        () =>
          lab.graph.changeServicePrincipal(mfaClientAppId, (sp) => ({
            ...sp,
            keyCredentials: sp.keyCredentials.map((key) => ({ ...key, endDateTime: "2020-01-01T00:00:00Z" })),
          })),
        /AADSTS700027: .*The key used is expired/,
      ],
    ];
    for (const [cause, breakIt, code] of causes) {
      await breakIt();
      const before = events("nps01", "AuthZAdminCh", 3).length;
      const result = await dialInLab(lab.description, "vpn01", "alice", lab.dir);
      assert.equal(result.outcome, "failed", cause);
      const logged = events("nps01", "AuthZAdminCh", 3).slice(before);
      assert.equal(logged.length, 1, cause);
      assert.match(logged[0].message, code, cause);
      await lab.graph.changeServicePrincipal(mfaClientAppId, () => client);
      await lab.graph.changeServicePrincipal(mfaConnectorAppId, (sp) => ({ ...sp, accountEnabled: true }));
      assert.equal(
        (await dialInLab(lab.description, "vpn01", "alice", lab.dir)).outcome,
        "connected",
        `${cause} repaired`,
      );
    }
  });

  it("MS-CHAPv2 where the policy wants it, and number matching's TOTP prompt as Learn describes it", async () => {
    await start("healthy", 0);
    const bob = () => lab.description.users.find((user) => user.name === "bob")!;
    const dialAs = async (user: string) => (await dialInLab(lab.description, "vpn01", user, lab.dir)).outcome;
    const nps = (change: (state: ReturnType<typeof readHostState>) => void) =>
      updateHostState(host("nps01").stateFile, change);
    assert.equal(await dialAs("bob"), "connected", "FALSE is what a healthy server runs: Approve/Deny");

    // A policy that allows MS-CHAPv2 alone turns PAP away with NPS reason code 66.
    nps((state) => (state.networkPolicies![0].authenticationTypes = [4]));
    assert.equal(await dialAs("alice"), "rejected");
    assert.match(events("nps01", "Security", 6273).at(-1)!.message, /Reason Code:\t+66/);
    updateHostState(host("vpn01").stateFile, (state) => (state.userAuthProtocolAccepted = ["MsChapv2"]));
    assert.equal(
      await dialAs("alice"),
      "connected",
      "MS-CHAPv2, the server's authenticator response checked",
    );
    assert.equal(await dialAs("bob"), "connected");

    // IAS started without OVERRIDE_NUMBER_MATCHING_WITH_OTP: bob, who has codes, is asked for one and fails.
    nps((state) => {
      delete state.registry[azureMfaKey].OVERRIDE_NUMBER_MATCHING_WITH_OTP;
      startIas(state);
    });
    const before = events("nps01", "AuthZOptCh", 1).length;
    assert.equal(await dialAs("bob"), "rejected");
    const challenges = events("nps01", "AuthZOptCh", 1).slice(before);
    assert.equal(challenges.length, 1);
    assert.match(challenges[0].message, /Challenge requested in Authentication Ext for User bob/);
    assert.equal(await dialAs("alice"), "connected", "a user without a TOTP method still gets Approve/Deny");

    // Set without a restart, the value changes nothing: the extension reads it when IAS starts.
    nps((state) => (state.registry[azureMfaKey].OVERRIDE_NUMBER_MATCHING_WITH_OTP = "FALSE"));
    assert.equal(await dialAs("bob"), "rejected");
    nps((state) => startIas(state));
    assert.equal(await dialAs("bob"), "connected");

    // TRUE forces the prompt; an extension older than 1.2.2216.1 never asks, once IAS has loaded it: an
    // install while IAS runs changes nothing until its next start.
    nps((state) => {
      state.registry[azureMfaKey].OVERRIDE_NUMBER_MATCHING_WITH_OTP = "TRUE";
      startIas(state);
    });
    assert.equal(await dialAs("bob"), "rejected");
    nps((state) => installExtension(state, "1.2.2131.2"));
    assert.equal(await dialAs("bob"), "rejected", "installed, not loaded: IAS still runs 1.2.2893.1");
    nps((state) => startIas(state));
    assert.equal(readHostState(host("nps01").stateFile).services.IAS.loaded?.extensionVersion, "1.2.2131.2");
    assert.equal(await dialAs("bob"), "connected");

    // Uninstalled while IAS runs, the extension still asks; IAS started without it grants access after the
    // password alone, with no MFA at all.
    const radius = lab.radius.get("nps01")!;
    const settings = readHostState(host("nps01").stateFile).registry[azureMfaKey];
    nps((state) => installExtension(state, null));
    assert.equal(await dialAs("alice"), "connected");
    assert.equal(radius.handled.at(-1)!.mfa, true);
    nps((state) => startIas(state));
    assert.equal(readHostState(host("nps01").stateFile).services.IAS.loaded?.extensionVersion, null);
    assert.equal(await dialAs("bob"), "connected");
    assert.deepEqual(radius.handled.at(-1), {
      user: "bob",
      outcome: "accepted",
      reason: "no NPS extension loaded: granted after primary authentication, no MFA",
      mfa: false,
    });

    // Under PAP the extension asks with an Access-Challenge, as radclient sees it.
    nps((state) => {
      installExtension(state, "1.2.2893.1");
      state.registry[azureMfaKey] = settings;
      startIas(state);
      state.networkPolicies![0].authenticationTypes = [1];
    });
    const { port, secret } = host("nps01").radius!;
    assert.equal(await radclient(port, secret, "bob", bob().password, 30), "Access-Challenge");
    assert.equal(await radclient(port, secret, "alice", alice().password, 30), "Access-Accept");
  });
});
