import * as assert from "node:assert/strict";
import * as path from "node:path";
import { mfaClientAppId } from "../../config/clouds";
import { RequestRecord, startGraphEmulator } from "../../lab/graph";
import {
  driftedCredentialProperties,
  npsKeyDisplayName,
  NpsCertificateCredentialOutputs,
  NpsCertificateCredentialProvider,
  NpsSupersededKeysOutputs,
  NpsSupersededKeysProvider,
  thumbprintOfDer,
} from "../../providers/entra";
import { NpsCertificateCredentialInputs, NpsCertificatePublicPart } from "../../providers/resourceTypes";
import { foreignKey, Lab, labDir, npsCertificate, operatorSecret, startLab } from "./lab";
import { raceWriters } from "./racingWriters";

/** Writes here take well under the window, except where a test slows them (and widens it). */
const quick = { writeWindowMs: 600, marginMs: 50 };
const patient = { writeWindowMs: 3500, marginMs: 200 };

const hosts = ["nps01.corp.example.com", "nps02.corp.example.com", "nps03.corp.example.com"];

function inputsFor(host: string, certificate: NpsCertificatePublicPart): NpsCertificateCredentialInputs {
  return { clientAppId: mfaClientAppId, npsHostname: host, certificate, renewalDays: 60 };
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

describe("NpsCertificateCredential against the Graph emulator", () => {
  let lab: Lab;
  let provider: NpsCertificateCredentialProvider;
  const certificates = new Map<string, NpsCertificatePublicPart>();
  let foreign: ReturnType<typeof foreignKey>;

  const liveThumbprints = () =>
    lab.emulator
      .servicePrincipal(mfaClientAppId)!
      .keyCredentials.map((key) => thumbprintOfDer(key.key!))
      .sort();
  const expectedThumbprints = (registered: string[]) =>
    [thumbprintOfDer(foreign.key), ...registered.map((host) => certificates.get(host)!.thumbprint)].sort();

  beforeEach(async () => {
    lab = await startLab({ seed: "healthy" });
    for (const host of hosts) certificates.set(host, npsCertificate(lab.ca, host));
    foreign = foreignKey(lab.ca);
    await lab.emulator.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, keyCredentials: [foreign] }));
    provider = new NpsCertificateCredentialProvider(quick);
    await provider.configure({ config: lab.config } as never);
  });
  afterEach(() => lab.stop());

  it("keeps the foreign key and every NPS key whatever order three servers register in", async () => {
    for (const order of permutations(hosts)) {
      await lab.emulator.changeServicePrincipal(mfaClientAppId, (sp) => ({
        ...sp,
        keyCredentials: [foreign],
      }));
      const done: string[] = [];
      for (const host of order) {
        await provider.create(inputsFor(host, certificates.get(host)!));
        done.push(host);
        assert.deepEqual(liveThumbprints(), expectedThumbprints(done), `order ${order.join(" > ")}`);
      }
      const foreignNow = lab.emulator
        .servicePrincipal(mfaClientAppId)!
        .keyCredentials.find((key) => key.keyId === foreign.keyId);
      assert.deepEqual(foreignNow, foreign, "the foreign key is byte-for-byte as it was");
    }
  });

  it("keeps every key when three registrations run at once with slow writes", async () => {
    lab.emulator.injectFault({ kind: "latency", ms: 150, method: "PATCH", times: 3 });
    await Promise.all(hosts.map((host) => provider.create(inputsFor(host, certificates.get(host)!))));
    assert.deepEqual(liveThumbprints(), expectedThumbprints(hosts));
    assert.ok(
      lab.emulator.requests().filter((request) => request.method === "PATCH").length > 3,
      "the writes raced, so at least one registration had to merge again",
    );
  });

  it("keeps every key when two processes sharing the tenant's state file register at once", async function () {
    const stateFile = path.join(labDir(), "tenant.json");
    const shared = await startGraphEmulator({ ca: lab.ca, stateFile, seed: "healthy" });
    try {
      const { clientId } = await shared.registerClient({ secret: operatorSecret });
      await shared.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, keyCredentials: [foreign] }));
      // Slow writes: both children read the collection before either write lands, so one write drops the other's key.
      const results = await raceWriters(
        hosts.slice(0, 2).map((host) => ({
          dir: lab.dir,
          stateFile,
          clientId,
          host,
          certificate: certificates.get(host)!,
          faults: [{ kind: "latency", ms: 400, method: "PATCH", times: 1 }],
          convergence: patient,
        })),
      );
      assert.deepEqual(
        results.map((result) => result.status ?? result.error),
        ["registered", "registered"],
      );
      const keys = shared
        .servicePrincipal(mfaClientAppId)!
        .keyCredentials.map((key) => thumbprintOfDer(key.key!))
        .sort();
      assert.deepEqual(keys, expectedThumbprints(hosts.slice(0, 2)));
      assert.ok(
        results.some((result) => result.patches > 1),
        `the registrations raced, so one had to merge again (PATCHes: ${results.map((result) => result.patches)})`,
      );
    } finally {
      await shared.stop();
    }
  });

  /** Resolves once the emulator has answered a request matching `test` (an event, not a timer). */
  const answered = async (test: (request: RequestRecord) => boolean) => {
    while (!lab.emulator.requests().some(test)) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const addKeyBehindGraphsBack = (key: ReturnType<typeof foreignKey>) =>
    lab.emulator.changeServicePrincipal(mfaClientAppId, (sp) => ({
      ...sp,
      keyCredentials: [...sp.keyCredentials, key],
    }));

  it("does not resend a throttled keyCredentials write: it reads again, so a key added meanwhile stays", async () => {
    lab.emulator.injectFault({ kind: "status", status: 429, retryAfterSeconds: 1, method: "PATCH" });
    const late = foreignKey(lab.ca);
    const host = hosts[0];
    const registering = provider.create(inputsFor(host, certificates.get(host)!));
    await answered((request) => request.method === "PATCH" && request.status === 429);
    await addKeyBehindGraphsBack(late);
    await registering;
    assert.deepEqual(liveThumbprints(), [...expectedThumbprints([host]), thumbprintOfDer(late.key)].sort());
  });

  it("does not resend a write whose connection dropped after Graph applied it", async () => {
    lab.emulator.injectFault({ kind: "dropAfterApply", method: "PATCH" });
    const late = foreignKey(lab.ca);
    const host = hosts[0];
    const registering = provider.create(inputsFor(host, certificates.get(host)!));
    await answered((request) => request.method === "PATCH" && request.status === -1);
    await addKeyBehindGraphsBack(late);
    const outs = (await registering).outs as NpsCertificateCredentialOutputs;
    assert.equal(outs.status, "registered");
    assert.deepEqual(liveThumbprints(), [...expectedThumbprints([host]), thumbprintOfDer(late.key)].sort());
  });

  it("does not report success while a slower write based on an older read can still land", async () => {
    const [slow, fast] = hosts;
    // The first PATCH (the slow writer's) takes 2.5 s; the fast writer reads and writes inside that time.
    lab.emulator.injectFault({ kind: "latency", ms: 2500, method: "PATCH" });
    const writer = new NpsCertificateCredentialProvider(patient);
    await writer.configure({ config: lab.config } as never);
    const slowWriter = writer.create(inputsFor(slow, certificates.get(slow)!));
    await answered((request) => request.method === "PATCH");
    const fastOuts = (await writer.create(inputsFor(fast, certificates.get(fast)!)))
      .outs as NpsCertificateCredentialOutputs;
    assert.equal(fastOuts.status, "registered");
    assert.ok(
      liveThumbprints().includes(certificates.get(fast)!.thumbprint),
      "reported registered, so the key is there once the slow write has landed",
    );
    await slowWriter;
    assert.deepEqual(liveThumbprints(), expectedThumbprints([slow, fast]));
  });

  it("says Graph refused the writes when every PATCH gets 503, without blaming another tool", async () => {
    lab.emulator.injectFault({ kind: "status", status: 503, method: "PATCH", times: Infinity });
    const strict = new NpsCertificateCredentialProvider({ ...quick, maxWrites: 3, maxPauseMs: 10 });
    await strict.configure({ config: lab.config } as never);
    const host = hosts[0];
    await assert.rejects(strict.create(inputsFor(host, certificates.get(host)!)), (error: Error) => {
      assert.match(error.message, /nps01\.corp\.example\.com: certificate [0-9A-F]{40}/);
      assert.match(error.message, /after 3 writes: 3 refused as unavailable \(503\/504\), so not applied/);
      assert.match(error.message, /run again in a few minutes/);
      assert.doesNotMatch(error.message, /another (tool|writer)/);
      return true;
    });
    assert.deepEqual(liveThumbprints(), expectedThumbprints([]), "nothing was written");
  });

  it("a renewal only adds; the old key goes when NpsSupersededKeys runs, and other keys stay", async () => {
    const [first, second] = hosts;
    await provider.create(inputsFor(first, certificates.get(first)!));
    await provider.create(inputsFor(second, certificates.get(second)!));
    const oldKeyId = lab.emulator
      .servicePrincipal(mfaClientAppId)!
      .keyCredentials.find((key) => key.displayName === npsKeyDisplayName(first))!.keyId;
    const renewed = npsCertificate(lab.ca, first);
    lab.emulator.clearRequests();
    await provider.update("id", {}, inputsFor(first, renewed));
    const writes = lab.emulator
      .requests()
      .filter((request) => request.method === "PATCH")
      .map((request) => request.keyIds!);
    assert.equal(writes.length, 1, "one write adds the renewed key");
    assert.ok(
      writes[0].includes(oldKeyId) && writes[0].length === 4,
      "the old key stays while IAS may use it",
    );

    const retirement = new NpsSupersededKeysProvider(quick);
    await retirement.configure({ config: lab.config } as never);
    const retireInputs = {
      clientAppId: mfaClientAppId,
      npsHostname: first,
      keepThumbprints: [renewed.thumbprint],
    };
    const created = await retirement.create(retireInputs);
    assert.deepEqual(created.outs.superseded, []);
    assert.ok(
      !lab.emulator.servicePrincipal(mfaClientAppId)!.keyCredentials.some((key) => key.keyId === oldKeyId),
      "the superseded key is still there",
    );
    assert.deepEqual(liveThumbprints(), expectedThumbprints([second]).concat(renewed.thumbprint).sort());
  });

  it("NpsSupersededKeys: refresh finds a key an interrupted rotation left, and keeps what IAS loaded", async () => {
    const [first] = hosts;
    const renewed = npsCertificate(lab.ca, first);
    await provider.create(inputsFor(first, certificates.get(first)!));
    await provider.update("id", {}, inputsFor(first, renewed));
    const retirement = new NpsSupersededKeysProvider(quick);
    await retirement.configure({ config: lab.config } as never);
    const oldThumbprint = certificates.get(first)!.thumbprint;
    // IAS still runs the old certificate: both stay.
    const both = {
      clientAppId: mfaClientAppId,
      npsHostname: first,
      keepThumbprints: [renewed.thumbprint, oldThumbprint],
    };
    const kept = await retirement.create(both);
    assert.deepEqual(
      liveThumbprints(),
      expectedThumbprints([]).concat(oldThumbprint, renewed.thumbprint).sort(),
    );
    const refreshed = await retirement.read("id", {
      ...(kept.outs as NpsSupersededKeysOutputs),
      keepThumbprints: [renewed.thumbprint],
    });
    assert.deepEqual((refreshed.props as NpsSupersededKeysOutputs).superseded, [oldThumbprint]);
    const only = { clientAppId: mfaClientAppId, npsHostname: first, keepThumbprints: [renewed.thumbprint] };
    assert.equal(
      (await retirement.diff("id", refreshed.props as NpsSupersededKeysOutputs, only)).changes,
      true,
    );
    await retirement.update("id", refreshed.props, only);
    assert.deepEqual(liveThumbprints(), expectedThumbprints([]).concat(renewed.thumbprint).sort());
  });

  it("reports a missing, an expired and a soon-expiring key as drift of status", async () => {
    const host = hosts[0];
    const inputs = inputsFor(host, certificates.get(host)!);
    const created = await provider.create(inputs);
    const outs = created.outs as NpsCertificateCredentialOutputs;
    assert.equal(outs.status, "registered");
    assert.deepEqual(driftedCredentialProperties((await provider.read(created.id, outs)).props, inputs), []);

    await lab.emulator.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, keyCredentials: [foreign] }));
    const missing = await provider.read(created.id, outs);
    assert.equal(missing.props.status, "missing");
    assert.equal(missing.inputs.status, "missing");
    assert.deepEqual(driftedCredentialProperties(missing.props, inputs), ["status"]);
    assert.equal((await provider.diff(created.id, missing.props, inputs)).changes, true);

    const soon = inputsFor(host, npsCertificate(lab.ca, host, 30));
    const soonOuts = (await provider.create(soon)).outs as NpsCertificateCredentialOutputs;
    assert.equal(soonOuts.status, "renewal-due");
    assert.equal((await provider.read(created.id, soonOuts)).props.status, "renewal-due");

    await lab.emulator.changeServicePrincipal(mfaClientAppId, (sp) => ({
      ...sp,
      keyCredentials: sp.keyCredentials.map((key) => ({
        ...key,
        startDateTime: "2020-01-01T00:00:00Z",
        endDateTime: "2021-01-01T00:00:00Z",
      })),
    }));
    assert.equal((await provider.read(created.id, soonOuts)).props.status, "expired");
  });

  it("destroy forgets: every key stays on the Client service principal", async () => {
    const created = await Promise.all(
      hosts.map((host) => provider.create(inputsFor(host, certificates.get(host)!))),
    );
    const before = lab.emulator.servicePrincipal(mfaClientAppId)!;
    lab.emulator.clearRequests();
    for (const entry of created) await provider.delete(entry.id, entry.outs);
    assert.deepEqual(lab.emulator.requests(), []);
    assert.deepEqual(lab.emulator.servicePrincipal(mfaClientAppId), before);
    assert.equal(before.accountEnabled, true);
  });

  it("rejects a certificate whose thumbprint is not its own", async () => {
    const certificate = {
      ...certificates.get(hosts[0])!,
      thumbprint: certificates.get(hosts[1])!.thumbprint,
    };
    const result = await provider.check({}, inputsFor(hosts[0], certificate));
    assert.equal(result.failures?.[0]?.property, "certificate");
    assert.match(result.failures![0].reason, /nps01.*expected thumbprint/);
  });
});
