// The Graph access token expiring in the middle of a run: the emulator issues 2 s tokens and slows the
// writes past that, so requests after the first write need a new token. The run must sign in again by
// itself and finish, with no request refused as unauthenticated.
import * as assert from "node:assert/strict";
import { mfaClientAppId } from "../../config/clouds";
import { NpsCertificateCredentialOutputs, NpsCertificateCredentialProvider } from "../../providers/entra";
import { npsCertificate, startLab } from "../entra/lab";
import { count } from "./tally";

describe("the Graph token expiring mid-run", function () {
  this.timeout(120_000);

  it("is refreshed: every registration finishes and Graph never answers 401", async () => {
    const lab = await startLab({ seed: "healthy", tokenLifetimeSeconds: 2 });
    try {
      lab.emulator.injectFault({ kind: "latency", ms: 2500, method: "PATCH", times: 2 });
      const provider = new NpsCertificateCredentialProvider({ writeWindowMs: 4000, marginMs: 200 });
      await provider.configure({ config: lab.config } as never);
      const statuses: string[] = [];
      for (const host of ["nps01.corp.example.com", "nps02.corp.example.com"]) {
        const created = await provider.create({
          clientAppId: mfaClientAppId,
          npsHostname: host,
          certificate: npsCertificate(lab.ca, host),
          renewalDays: 60,
        });
        statuses.push((created.outs as NpsCertificateCredentialOutputs).status);
      }
      const requests = lab.emulator.requests();
      const tokens = requests.filter((request) => request.path.includes("/oauth2/v2.0/token")).length;
      const refused = requests.filter((request) => request.status === 401).length;
      const survived = statuses.every((status) => status === "registered") && refused === 0;
      count({ faultsInjected: 1, survived: survived ? 1 : 0 });
      assert.deepEqual(statuses, ["registered", "registered"]);
      assert.equal(refused, 0, "no request went out with an expired token");
      assert.ok(tokens >= 2, `signed in again after the first token expired (token requests: ${tokens})`);
      assert.equal(lab.emulator.servicePrincipal(mfaClientAppId)!.keyCredentials.length >= 2, true);
    } finally {
      await lab.stop();
    }
  });
});
