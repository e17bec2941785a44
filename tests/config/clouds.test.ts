// The US Government DoD cloud: its own Graph root, Azure Government's sign-in and MFA service endpoints.
import * as assert from "node:assert/strict";
import { cloudEndpoints } from "../../config/clouds";
import { extensionSettingsFor } from "../../components/npsServer";

describe("cloud endpoints", () => {
  it("send a DoD tenant to dod-graph.microsoft.us and write Azure Government's MFA endpoints", () => {
    assert.equal(cloudEndpoints.usgovdod.graphUrl, "https://dod-graph.microsoft.us");
    const settings = extensionSettingsFor(
      "72f988bf-86f1-41af-91ab-2d7cd011db47",
      "usgovdod",
      {},
      "A".repeat(40),
    );
    assert.equal(settings.STS_URL, "https://login.microsoftonline.us/");
    assert.equal(settings.AZURE_MFA_HOSTNAME, "strongauthenticationservice.auth.microsoft.us");
    assert.equal(settings.AZURE_MFA_RESOURCE_HOSTNAME, "adnotifications.windowsazure.us");
  });
});
