// Our key credentials' displayName stays within what Graph keeps (90 characters), so our own key is still
// recognised after Graph stored it; long host names stay apart.
import * as assert from "node:assert/strict";
import {
  desiredKeyCredential,
  keyDisplayNameMaxLength,
  npsKeyDisplayName,
  ownedByHost,
} from "../../providers/entra/keyCredentials";

const longHost = (suffix: string) =>
  `${"nps-radius-authentication-primary.".repeat(3)}${suffix}.corp.example.com`;

describe("NPS key credential names", () => {
  it("keep a short host name readable in full", () => {
    assert.equal(npsKeyDisplayName("NPS01.lab.test"), "npsmfa NPS extension certificate: nps01.lab.test");
  });

  it("fit Graph's 90 characters for a long host name, and are still ours after Graph stored them", () => {
    const host = longHost("site1");
    const name = npsKeyDisplayName(host);
    assert.ok(name.length <= keyDisplayNameMaxLength, `${name.length} characters`);
    const stored = {
      ...desiredKeyCredential(host, {
        derBase64: "",
        thumbprint: "00".repeat(20),
        notBefore: "2026-01-01T00:00:00Z",
        notAfter: "2028-01-01T00:00:00Z",
      }),
    };
    stored.displayName = stored.displayName!.slice(0, keyDisplayNameMaxLength);
    assert.ok(ownedByHost(stored, host));
    assert.ok(!ownedByHost(stored, longHost("site2")));
  });

  it("tell apart long host names that share their first 90 characters", () => {
    assert.notEqual(npsKeyDisplayName(longHost("site1")), npsKeyDisplayName(longHost("site2")));
  });
});
