import * as assert from "node:assert/strict";
import { winrmHttpsVerified } from "../../policies/rules/winrmHttpsVerified";
import {
  extensionSettings,
  iasRestart,
  npsCertificate,
  radiusTimeout,
  servicePrincipal,
  unknownString,
  validateResource,
  winrm,
} from "./fakes";
import { mfaClientAppId } from "../../config/clouds";

const nps01 = "nps01.corp.example.com";

function withWinrm<T extends { props: Record<string, unknown> }>(
  resource: T,
  endpoint: Record<string, unknown>,
): T {
  return { ...resource, props: { ...resource.props, winrm: endpoint } };
}

describe("policy winrm-https-verified", () => {
  it("is mandatory", () => {
    assert.equal(winrmHttpsVerified.enforcementLevel, "mandatory");
  });

  it("passes https endpoints on every resource type that reaches a host", async () => {
    for (const resource of [
      npsCertificate(nps01),
      extensionSettings(nps01, {}),
      radiusTimeout("vpn01.corp.example.com", 90),
      iasRestart(nps01),
    ]) {
      assert.deepEqual(await validateResource(winrmHttpsVerified, resource), [], resource.type);
    }
  });

  it("passes a plain http endpoint with NTLM: every message is encrypted", async () => {
    const resource = withWinrm(extensionSettings(nps01, {}), {
      ...winrm(nps01),
      url: `http://${nps01}:5985/wsman`,
    });
    assert.deepEqual(await validateResource(winrmHttpsVerified, resource), []);
  });

  it("reports a plain http endpoint whose messages would travel unencrypted", async () => {
    const certificate = withWinrm(extensionSettings(nps01, {}), {
      ...winrm(nps01, { auth: "certificate" }),
      url: `http://${nps01}:5985/wsman`,
    });
    const violations = await validateResource(winrmHttpsVerified, certificate);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /WinRM endpoint "http:\/\/nps01\.corp\.example\.com:5985\/wsman" is plain http with certificate authentication: its messages are not encrypted/,
    );
    assert.match(
      violations[0].message,
      /NpsExtensionSettings "nps01-extension" \(host nps01\.corp\.example\.com/,
    );
    assert.match(
      violations[0].message,
      /Fix: use auth ntlm .* or configure a WinRM HTTPS listener .* https:\/\/nps01\.corp\.example\.com:5986\/wsman/,
    );

    const bypass = withWinrm(radiusTimeout("vpn01.corp.example.com", 90), {
      ...winrm("vpn01.corp.example.com"),
      url: "http://vpn01.corp.example.com:5985/wsman",
      messageEncryption: "never",
    });
    const bypassed = await validateResource(winrmHttpsVerified, bypass);
    assert.equal(bypassed.length, 1);
    assert.match(bypassed[0].message, /winrm\.messageEncryption is "never" .*messages travel unencrypted/);
  });

  it("reports Basic authentication over plain HTTP as a readable password", async () => {
    const resource = withWinrm(npsCertificate(nps01), {
      ...winrm(nps01, { auth: "basic" }),
      url: `HTTP://${nps01}/wsman`,
    });
    const violations = await validateResource(winrmHttpsVerified, resource);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /Basic authentication over .*the password travels readable/);
  });

  it("reports a switch that turns certificate verification off", async () => {
    const resource = withWinrm(iasRestart(nps01), {
      ...winrm(nps01),
      serverCertValidation: "ignore",
      skipCaCheck: true,
    });
    const violations = await validateResource(winrmHttpsVerified, resource);
    assert.equal(violations.length, 2);
    assert.match(
      violations[0].message,
      /winrm\.skipCaCheck is true: the listener's certificate is not verified/,
    );
    assert.match(violations[1].message, /winrm\.serverCertValidation is "ignore"/);
    assert.match(
      violations[1].message,
      /Fix: remove winrm\.serverCertValidation; trust .* winrm\.caFile .* winrm\.thumbprint/,
    );
  });

  it("leaves unknown URLs and resources without WinRM alone", async () => {
    const unknownUrl = withWinrm(npsCertificate(nps01), { ...winrm(nps01), url: unknownString });
    assert.deepEqual(await validateResource(winrmHttpsVerified, unknownUrl), []);
    assert.deepEqual(await validateResource(winrmHttpsVerified, servicePrincipal(mfaClientAppId)), []);
  });
});
