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
} from "../../lab/radius/packet";
import { clientEventLog, dialInLab } from "../../lab/radius/vpnDial";
import { hostEvents, loggedHostEvents, readEvents } from "../../lab/windows/eventLog";
import { readHostState, updateHostState } from "../../lab/windows/hostState";

describe("lab RADIUS packets (RFC 2865, RFC 3579)", () => {
  const secret = "s3cret";
  const request = accessRequest({
    identifier: 7,
    userName: "alice",
    password: "a password longer than sixteen bytes",
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

/** radclient's verdict: "Access-Accept", "Access-Reject" or "no answer". */
function radclient(port: number, secret: string, user: string, password: string, waitSeconds: number) {
  const attributes = `User-Name = "${user}"\nUser-Password = "${password}"\nMessage-Authenticator = 0x00\n`;
  return new Promise<string>((resolve, reject) => {
    const child = execFile(
      "radclient",
      ["-x", "-t", String(waitSeconds), "-r", "1", `127.0.0.1:${port}`, "auth", secret],
      (error, stdout) => {
        const verdict = /Received (Access-Accept|Access-Reject)/.exec(stdout)?.[1];
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

  it("healthy: radclient gets Access-Accept after the approval, Access-Reject for an unknown user or wrong password", async () => {
    await start("healthy", 2);
    const { port, secret } = host("nps01").radius!;
    assert.equal(await radclient(port, secret, "alice", alice().password, 30), "Access-Accept");
    assert.equal(await radclient(port, secret, "mallory", "guess", 30), "Access-Reject");
    assert.equal(await radclient(port, secret, "alice", "wrong", 30), "Access-Reject");
    assert.equal(await radclient(port, "not-the-secret", "alice", alice().password, 3), "no answer");
    assert.equal(events("nps01", "Security", 6272).length, 1);
    assert.deepEqual(events("nps01", "AuthZAdminCh", 3), []);
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
});
