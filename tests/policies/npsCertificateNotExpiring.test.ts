import * as assert from "node:assert/strict";
import { npsCertificateNotExpiring } from "../../policies/rules/npsCertificateNotExpiring";
import { certificateCredential, daysFromNow, npsCertificate, stackViolations, unknownString } from "./fakes";

const nps01 = "nps01.corp.example.com";
const nps02 = "nps02.corp.example.com";

describe("policy nps-certificate-not-expiring", () => {
  it("is advisory and warns 30 days ahead by default", () => {
    assert.equal(npsCertificateNotExpiring.enforcementLevel, "advisory");
    const schema = npsCertificateNotExpiring.configSchema?.properties.daysBeforeExpiry;
    assert.equal(schema && typeof schema === "object" && schema.default, 30);
  });

  it("passes certificates that expire in more than 30 days", async () => {
    const violations = await stackViolations(npsCertificateNotExpiring, [
      npsCertificate(nps01, { notAfter: daysFromNow(100) }),
      certificateCredential(nps01, {}, { notAfter: daysFromNow(100) }),
    ]);
    assert.deepEqual(violations, []);
  });

  it("reports a host certificate (output) and a registered one (input) that expire within 30 days", async () => {
    const violations = await stackViolations(npsCertificateNotExpiring, [
      npsCertificate(nps01, { notAfter: daysFromNow(10.5), thumbprint: "C".repeat(40) }),
      certificateCredential(nps02, {}, { notAfter: daysFromNow(3.5) }),
    ]);
    assert.equal(violations.length, 2);
    assert.match(
      violations[0].message,
      /NPS certificate C{40} of nps01\.corp\.example\.com expires on .*in 10 day\(s\)/,
    );
    assert.match(violations[0].message, /ESTS_TOKEN_ERROR/);
    assert.match(
      violations[0].message,
      /Fix: run pulumi up to renew it \(renewal is due 60 days before expiry\)/,
    );
    assert.match(violations[0].urn ?? "", /NpsCertificate::nps01-certificate$/);
    assert.match(violations[1].message, /of nps02\.corp\.example\.com expires on .*in 3 day\(s\)/);
    assert.match(violations[1].urn ?? "", /NpsCertificateCredential::nps02-credential$/);
  });

  it("reports an expired certificate", async () => {
    const violations = await stackViolations(npsCertificateNotExpiring, [
      npsCertificate(nps01, { notAfter: daysFromNow(-2) }),
    ]);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /expired on \d{4}-\d{2}-\d{2}/);
  });

  it("honours a configured threshold", async () => {
    const resources = [npsCertificate(nps01, { notAfter: daysFromNow(100) })];
    assert.equal(
      (await stackViolations(npsCertificateNotExpiring, resources, { daysBeforeExpiry: 120 })).length,
      1,
    );
    assert.equal(
      (await stackViolations(npsCertificateNotExpiring, resources, { daysBeforeExpiry: 90 })).length,
      0,
    );
  });

  it("skips a certificate a preview does not know yet, and reports a notAfter that is not a date", async () => {
    const violations = await stackViolations(npsCertificateNotExpiring, [
      npsCertificate(nps01, { notAfter: unknownString }),
      certificateCredential(nps02, {}, { notAfter: "someday" }),
    ]);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /notAfter "someday", which is not a date/);
  });
});
