import * as assert from "node:assert/strict";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import { mfaServicePrincipalsEnabled } from "../../policies/rules/mfaServicePrincipalsEnabled";
import {
  bothServicePrincipals,
  certificateCredential,
  mfaTenantComponent,
  npsCertificate,
  radiusTimeout,
  servicePrincipal,
  stackViolations,
  validateStack,
} from "./fakes";

const nps01 = "nps01.corp.example.com";

describe("policy mfa-service-principals-enabled", () => {
  it("is mandatory", () => {
    assert.equal(mfaServicePrincipalsEnabled.enforcementLevel, "mandatory");
  });

  it("passes a stack with NPS servers and both service principals enabled", async () => {
    const violations = await stackViolations(mfaServicePrincipalsEnabled, [
      mfaTenantComponent,
      ...bothServicePrincipals(),
      npsCertificate(nps01),
      certificateCredential(nps01),
    ]);
    assert.deepEqual(violations, []);
  });

  it("reports the Connector missing from a stack that manages NPS servers", async () => {
    const violations = await stackViolations(mfaServicePrincipalsEnabled, [
      servicePrincipal(mfaClientAppId),
      npsCertificate(nps01),
    ]);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /Azure Multi-Factor Auth Connector service principal \(appId 1f5530b3-/,
    );
    assert.match(violations[0].message, /not declared/);
    assert.match(violations[0].message, /ESTS_TOKEN_ERROR/);
    assert.match(violations[0].message, /AADSTS500014/);
    assert.match(violations[0].message, /Fix: declare the MfaTenant component/);
  });

  it("reports a Client declared with accountEnabled false, on that resource", async () => {
    const disabled = servicePrincipal(mfaClientAppId, { accountEnabled: false });
    const violations = await stackViolations(mfaServicePrincipalsEnabled, [
      mfaTenantComponent,
      disabled,
      servicePrincipal(mfaConnectorAppId),
    ]);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /Client service principal \(appId 981f26a1-.*accountEnabled false/);
    assert.match(violations[0].message, /AADSTS7000112/);
    assert.match(violations[0].urn ?? "", /ServicePrincipalEnabled::sp-981f26a1$/);
  });

  it("reports both missing when the tenant component declares neither", async () => {
    const violations = await stackViolations(mfaServicePrincipalsEnabled, [mfaTenantComponent]);
    assert.equal(violations.length, 2);
  });

  it("does not apply to a stack that manages only VPN servers", async () => {
    const result = await validateStack(mfaServicePrincipalsEnabled, [
      radiusTimeout("vpn01.corp.example.com", 90),
    ]);
    assert.equal(result, "not applicable");
  });
});
