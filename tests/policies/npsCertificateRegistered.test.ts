import * as assert from "node:assert/strict";
import { mfaConnectorAppId } from "../../config/clouds";
import { npsCertificateRegistered } from "../../policies/rules/npsCertificateRegistered";
import {
  certificateCredential,
  npsCertificate,
  stackViolations,
  unknownString,
  validateStack,
} from "./fakes";

const nps01 = "nps01.corp.example.com";
const nps02 = "nps02.corp.example.com";
const thumbprint01 = "1".repeat(40);
const thumbprint02 = "2".repeat(40);

describe("policy nps-certificate-registered-on-mfa-client", () => {
  it("is mandatory", () => {
    assert.equal(npsCertificateRegistered.enforcementLevel, "mandatory");
  });

  it("passes when every NPS server's certificate is registered on the Client app", async () => {
    const violations = await stackViolations(npsCertificateRegistered, [
      npsCertificate(nps01, { thumbprint: thumbprint01 }),
      npsCertificate(nps02, { thumbprint: thumbprint02 }),
      certificateCredential(nps01, {}, { thumbprint: thumbprint01 }),
      // Host names are DNS names: case does not matter.
      certificateCredential(nps02.toUpperCase(), {}, { thumbprint: thumbprint02.toLowerCase() }),
    ]);
    assert.deepEqual(violations, []);
  });

  it("reports the NPS server whose certificate has no credential", async () => {
    const violations = await stackViolations(npsCertificateRegistered, [
      npsCertificate(nps01, { thumbprint: thumbprint01 }),
      npsCertificate(nps02, { thumbprint: thumbprint02 }),
      certificateCredential(nps01, {}, { thumbprint: thumbprint01 }),
    ]);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /No NpsCertificateCredential registers the certificate of NPS server nps02/,
    );
    assert.match(
      violations[0].message,
      /NpsCertificate "nps02-certificate" \(host nps02\.corp\.example\.com, urn:/,
    );
    assert.match(violations[0].message, /ESTS_TOKEN_ERROR.*6274.*20227/);
    assert.match(violations[0].urn ?? "", /NpsCertificate::nps02-certificate$/);
  });

  it("reports a credential registered on the Connector instead of the Client", async () => {
    const violations = await stackViolations(npsCertificateRegistered, [
      npsCertificate(nps01),
      certificateCredential(nps01, { clientAppId: mfaConnectorAppId }),
    ]);
    assert.equal(violations.length, 2);
    assert.match(
      violations[0].message,
      /registered on appId 1f5530b3-.*\(Azure Multi-Factor Auth Connector\)/,
    );
    assert.match(violations[0].message, /Fix: set clientAppId to 981f26a1-/);
    assert.match(
      violations[1].message,
      /No NpsCertificateCredential registers the certificate of NPS server nps01/,
    );
  });

  it("reports a registered thumbprint that is not the host's certificate", async () => {
    const violations = await stackViolations(npsCertificateRegistered, [
      npsCertificate(nps01, { thumbprint: thumbprint01 }),
      certificateCredential(nps01, {}, { thumbprint: thumbprint02 }),
    ]);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      new RegExp(`holds certificate ${thumbprint01}.*given ${thumbprint02}`),
    );
  });

  it("does not judge a thumbprint a preview cannot know yet", async () => {
    const violations = await stackViolations(npsCertificateRegistered, [
      npsCertificate(nps01, { thumbprint: unknownString }),
      certificateCredential(nps01, {}, { thumbprint: unknownString }),
    ]);
    assert.deepEqual(violations, []);
  });

  it("does not apply to a stack without NPS certificates", async () => {
    assert.equal(await validateStack(npsCertificateRegistered, []), "not applicable");
  });
});
