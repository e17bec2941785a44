import * as assert from "node:assert/strict";
import { extensionNpsNotProxy } from "../../policies/rules/extensionNpsNotProxy";
import { extensionSettings, FakeResource, radiusTimeout, stackViolations } from "./fakes";

const forwarding = (host: string): FakeResource => {
  const resource = radiusTimeout(host, 90, []);
  return { ...resource, props: { ...resource.props, remoteServerGroups: true } };
};

describe("policy extension-nps-not-proxy", () => {
  it("is mandatory", () => {
    assert.equal(extensionNpsNotProxy.enforcementLevel, "mandatory");
  });

  it("passes a proxy without the extension, and VPN timeouts on an extension host's name", async () => {
    const resources = [
      extensionSettings("nps01.corp.example.com", {}),
      forwarding("proxy01.corp.example.com"),
      radiusTimeout("vpn01.corp.example.com", 90),
    ];
    assert.deepEqual(await stackViolations(extensionNpsNotProxy, resources), []);
  });

  it("reports an extension NPS server that also forwards RADIUS", async () => {
    const violations = await stackViolations(extensionNpsNotProxy, [
      extensionSettings("nps01.corp.example.com", {}),
      forwarding("NPS01.corp.example.com"),
    ]);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /NPS01\.corp\.example\.com runs the NPS extension and is declared as a RADIUS proxy/,
    );
    assert.match(
      violations[0].message,
      /Fix: declare the proxy as a separate NPS server without the extension/,
    );
    assert.match(violations[0].urn ?? "", /RadiusTimeout::NPS01-radius-timeout$/);
  });
});
