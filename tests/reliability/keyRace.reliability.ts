// Eight processes registering different NPS certificates on the same Client service principal at once,
// each through its own Graph emulator on the shared tenant file (as separate operators' runs would),
// under 429 storms with Retry-After, 503s, 2.5 s PATCHes and connections dropped after the PATCH was
// applied, with foreign keys present. Every key present before, and every key reported registered,
// must be there at the end.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { mfaClientAppId } from "../../config/clouds";
import { GraphEmulator, startGraphEmulator } from "../../lab/graph";
import { loadOrCreateLabCa, LabCa } from "../../lab/tls";
import { thumbprintOfDer } from "../../providers/entra";
import { foreignKey, labDir, npsCertificate, operatorSecret } from "../entra/lab";
import { raceWriters } from "../entra/racingWriters";
import type { RegisterChildArgs, SerializedFault as ChildFault } from "../entra/registerChild";
import { count } from "./tally";

const storm: ChildFault = { kind: "status", status: 429, retryAfterSeconds: 1, method: "PATCH", times: 3 };
const unavailable: ChildFault = { kind: "status", status: 503, method: "PATCH", times: 2 };
const slow: ChildFault = { kind: "latency", ms: 2500, method: "PATCH", times: 1 };
const droppedAfterApply: ChildFault = { kind: "dropAfterApply", method: "PATCH", times: 1 };
const everyFault = [storm, unavailable, slow, droppedAfterApply];

/** Writes take at most the 2.5 s slowdown here; the window must cover it, and stays short for the suite. */
const convergence = { writeWindowMs: 5000, marginMs: 1000 };

describe("racing key writers in separate processes", function () {
  this.timeout(300_000);
  let dir: string;
  let ca: LabCa;
  let stateFile: string;
  let shared: GraphEmulator;
  let clientId: string;

  before(async () => {
    dir = labDir();
    ca = loadOrCreateLabCa(dir);
    stateFile = path.join(dir, "tenant.json");
    shared = await startGraphEmulator({ ca, stateFile, seed: "healthy" });
    ({ clientId } = await shared.registerClient({ secret: operatorSecret }));
  });
  after(() => shared.stop());

  const rounds: [string, (writer: number) => ChildFault[]][] = [
    ["one kind of fault per writer", (writer) => [everyFault[writer % everyFault.length]]],
    ["every kind of fault on every writer", () => everyFault],
  ];
  for (const [title, faultsOf] of rounds) {
    it(`loses no key with eight writers: ${title}`, async () => {
      const foreign = [foreignKey(ca), foreignKey(ca)];
      await shared.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, keyCredentials: foreign }));
      const writers: RegisterChildArgs[] = Array.from({ length: 8 }, (_, index) => {
        const host = `nps${String(index + 1).padStart(2, "0")}.corp.example.com`;
        return {
          dir,
          stateFile,
          clientId,
          host,
          certificate: npsCertificate(ca, host),
          faults: faultsOf(index),
          convergence,
        };
      });
      const results = await raceWriters(writers);
      const live = new Set(
        shared.servicePrincipal(mfaClientAppId)!.keyCredentials.map((key) => thumbprintOfDer(key.key!)),
      );
      const lostForeign = foreign.filter((key) => !live.has(thumbprintOfDer(key.key)));
      const lostRegistered = results.filter(
        (result, index) => result.status !== undefined && !live.has(writers[index].certificate.thumbprint),
      );
      const halted = results.filter(
        (result) => result.error !== undefined && result.error.startsWith(`${result.host}: certificate`),
      );
      count({
        faultsInjected: writers.reduce((sum, writer) => sum + writer.faults.length, 0),
        survived: results.filter((result) => result.status === "registered").length,
        haltedCleanly: halted.length,
        keysLost: lostForeign.length + lostRegistered.length,
      });
      assert.deepEqual(
        lostForeign.map((key) => key.displayName),
        [],
        "foreign keys survive every race",
      );
      assert.deepEqual(
        lostRegistered.map((result) => result.host),
        [],
        "no writer reports success for a key that is gone",
      );
      assert.deepEqual(
        results.filter((result) => result.status !== "registered").map((result) => result.error),
        [],
        "every writer gets its key registered in the end",
      );
    });
  }
});
