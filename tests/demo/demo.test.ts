// `npm run demo`'s story, run as the command runs it (our engine: no Pulumi CLI here), and its facts read
// back from the lab's own state, not from what the demo printed: the host state files and event logs, and
// the Graph emulator's tenant and request log.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { DemoRun, runDemo } from "../../demo/cli";
import { clientEventLog } from "../../lab/radius/vpnDial";
import { loggedHostEvents, readEvents } from "../../lab/windows/eventLog";
import { thumbprintOfKey } from "../../providers/entra/keyCredentials";
import { azureMfaKey, iasRestarts, readHostState } from "../../lab/windows/hostState";

describe("npm run demo: the article's lab, broken then fixed", function () {
  // Five lab operations, each a WinRM command per host in a fresh PowerShell: many minutes on a loaded 2-core machine.
  this.timeout(2_400_000);
  let run: DemoRun;
  const printed: string[] = [];

  before(async () => {
    run = await runDemo({ keep: true, json: false, engine: "local" }, (line) => printed.push(line));
  });

  after(async () => {
    await run?.lab.stop();
    if (run) fs.rmSync(run.workDir, { recursive: true, force: true });
  });

  const hosts = (role: "nps" | "vpn") => run.lab.description.hosts.filter((host) => host.role === role);
  const events = (name: string) =>
    loggedHostEvents(run.lab.description.hosts.find((host) => host.name === name)!.stateFile);
  const sp = (appId: string) => run.lab.graph.servicePrincipal(appId)!;

  it("ends as it should, and says first which engine it used", () => {
    assert.equal(run.report.ok, true, run.report.reason);
    assert.match(printed[0], /^engine: npsmfa's local engine \(no Pulumi CLI on PATH\)/);
  });

  it("the first dial failed as the article's did: ESTS_TOKEN_ERROR for the disabled Client, 6274, then the client's 20227", () => {
    assert.deepEqual(events("vpn01"), [], "the VPN server logged the client's events");
    const clientEvents = readEvents(clientEventLog(run.lab.dir));
    assert.deepEqual(
      clientEvents.map((event) => `${event.logName} ${event.id}`),
      ["Application 20227"],
      "the client logged other than one failed dial",
    );
    for (const nps of hosts("nps")) {
      const [first, second] = events(nps.name);
      assert.equal(first.logName, "AuthZAdminCh");
      assert.equal(first.id, 3);
      assert.match(first.message, /ESTS_TOKEN_ERROR[\s\S]*AADSTS7000112/);
      assert.equal(second.id, 6274);
      assert.ok(
        first.timeCreated <= clientEvents[0].timeCreated,
        `${nps.name}: its error came after the dial failed`,
      );
    }
  });

  it("the repair enabled both service principals, registered each NPS certificate and completed each registry", () => {
    assert.equal(sp(mfaClientAppId).accountEnabled, true);
    assert.equal(sp(mfaConnectorAppId).accountEnabled, true);
    for (const nps of hosts("nps")) {
      const registry = readHostState(nps.stateFile).registry[azureMfaKey];
      assert.equal(registry.CLIENT_ID, mfaClientAppId);
      const thumbprint = registry.CLIENT_CERT_IDENTIFIER;
      assert.ok(thumbprint, `${nps.name}: no certificate pinned`);
      assert.ok(
        sp(mfaClientAppId).keyCredentials.some(
          (key) => thumbprintOfKey(key) === String(thumbprint).toUpperCase(),
        ),
        `${nps.name}: its certificate is not on the Client`,
      );
    }
  });

  it("IAS restarted once on each NPS server, one server at a time, and never for the drift", () => {
    const restarts = hosts("nps").map((nps) => iasRestarts(readHostState(nps.stateFile)));
    assert.deepEqual(
      restarts.map((each) => each.length),
      hosts("nps").map(() => 1),
    );
    const [first, second] = restarts.map((each) => each[0]);
    assert.ok(first.startedAt! <= second.stoppedAt!, "IAS was down on both NPS servers at once");
  });

  it("the dial after the repair connected: NPS granted access, after the user approved", () => {
    const granted = hosts("nps").flatMap((nps) => events(nps.name).filter((event) => event.id === 6272));
    assert.equal(granted.length, 1);
    assert.ok(granted[0].timeCreated > readEvents(clientEventLog(run.lab.dir))[0].timeCreated);
  });

  it("the doctor named the disabled Client and its fix after the failed dial, and nothing failing after the repair", () => {
    assert.equal(run.report.doctor.before, "client-sp-disabled");
    assert.equal(run.report.doctor.after, null);
    const at = (pattern: RegExp, after = -1) =>
      printed.findIndex((line, index) => index > after && pattern.test(line));
    const failed = at(/^vpn01: alice failed$/);
    const cause = at(
      /^ {2}Sign-in fails: client-sp-disabled at tenant: .* has accountEnabled = false$/,
      failed,
    );
    assert.ok(failed >= 0 && cause > failed, "no doctor's cause after the failed dial");
    assert.match(
      printed[cause + 1],
      new RegExp(`^ {2}Fix: .*Update-MgServicePrincipal .*'${mfaClientAppId}'`),
    );
    const connected = at(/^vpn01: alice connected$/, cause);
    const passed = at(/^ {2}No check fails/, connected);
    assert.ok(connected > cause && passed > connected, "no passing doctor after the dial that connected");
    assert.match(printed[passed - 1], /^npm run doctor -- --lab .* --since \d{4}-/);
  });

  it("the Connector disabled behind the tool's back was enabled again, and the 5 s timeout is 60 s again", () => {
    const connectorPath = `/servicePrincipals/${sp(mfaConnectorAppId).id}`;
    const patches = run.lab.graph
      .requests()
      .filter(
        (request) =>
          request.method === "PATCH" && request.path.endsWith(connectorPath) && request.status < 300,
      );
    assert.equal(
      patches.length,
      2,
      "the Connector was enabled other than twice (the repair, then the drift)",
    );
    assert.equal(sp(mfaConnectorAppId).accountEnabled, true);
    for (const vpn of hosts("vpn")) {
      assert.deepEqual(
        readHostState(vpn.stateFile).remoteAccessRadius.map((entry) => entry.timeout),
        hosts("nps").map(() => 60),
      );
    }
  });
});
