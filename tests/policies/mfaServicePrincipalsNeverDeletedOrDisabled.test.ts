import * as assert from "node:assert/strict";
import { mfaClientAppId, mfaConnectorAppId } from "../../config/clouds";
import {
  azureAdServicePrincipalType,
  mfaServicePrincipalsNeverDeletedOrDisabled as policy,
} from "../../policies/rules/mfaServicePrincipalsNeverDeletedOrDisabled";
import { FakeResource, servicePrincipal, unknownString, urnOf, validateResource } from "./fakes";

function azureAdServicePrincipal(props: Record<string, unknown>, protect = false): FakeResource {
  return { type: azureAdServicePrincipalType, name: "mfa-client-sp", props, opts: { protect } };
}

describe("policy mfa-service-principals-never-deleted-or-disabled", () => {
  it("is mandatory", () => {
    assert.equal(policy.enforcementLevel, "mandatory");
  });

  it("passes a protected azuread.ServicePrincipal and an enabled ServicePrincipalEnabled", async () => {
    assert.deepEqual(
      await validateResource(
        policy,
        azureAdServicePrincipal({ clientId: mfaClientAppId, useExisting: true }, true),
      ),
      [],
    );
    assert.deepEqual(await validateResource(policy, servicePrincipal(mfaConnectorAppId)), []);
  });

  it("reports an unprotected azuread.ServicePrincipal adopting the MFA Client", async () => {
    const violations = await validateResource(
      policy,
      azureAdServicePrincipal({ clientId: mfaClientAppId.toUpperCase(), useExisting: true }),
    );
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /manages the first-party Azure Multi-Factor Auth Client service principal/,
    );
    assert.match(violations[0].message, /without protect: pulumi destroy.*deletes it from the tenant/);
    assert.match(
      violations[0].message,
      /ServicePrincipal "mfa-client-sp" \(urn:pulumi:prod::npsmfa::azuread:/,
    );
    assert.match(
      violations[0].message,
      /ESTS_TOKEN_ERROR.*AADSTS7000112 for the deleted Azure Multi-Factor Auth Client/,
    );
    assert.match(
      violations[0].message,
      /Fix: manage it with this project's MfaTenant .*protect: true, retainOnDelete: true/,
    );
  });

  it("accepts a resource listed in retainOnDeleteUrns, which CrossGuard cannot see", async () => {
    const resource = azureAdServicePrincipal({ clientId: mfaConnectorAppId });
    const config = { retainOnDeleteUrns: [urnOf(resource.type, resource.name)] };
    assert.deepEqual(await validateResource(policy, resource, config), []);
    assert.equal((await validateResource(policy, resource, { retainOnDeleteUrns: ["urn:other"] })).length, 1);
  });

  it("reports accountEnabled false even on a protected resource, with @pulumi/azuread 5's applicationId", async () => {
    const violations = await validateResource(
      policy,
      azureAdServicePrincipal({ applicationId: mfaConnectorAppId, accountEnabled: false }, true),
    );
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /accountEnabled is false for the first-party Azure Multi-Factor Auth Connector/,
    );
    assert.match(violations[0].message, /AADSTS500014/);
  });

  it("reports our ServicePrincipalEnabled set to disable an MFA app", async () => {
    const violations = await validateResource(
      policy,
      servicePrincipal(mfaClientAppId, { accountEnabled: false }),
    );
    assert.equal(violations.length, 1);
    assert.match(
      violations[0].message,
      /accountEnabled is false for the first-party Azure Multi-Factor Auth Client/,
    );
    assert.match(violations[0].message, /ServicePrincipalEnabled "sp-981f26a1"/);
  });

  it("leaves other applications, and an appId a preview does not know, alone", async () => {
    const other = azureAdServicePrincipal({
      clientId: "00000003-0000-0000-c000-000000000000",
      accountEnabled: false,
    });
    assert.deepEqual(await validateResource(policy, other), []);
    assert.deepEqual(
      await validateResource(policy, azureAdServicePrincipal({ clientId: unknownString })),
      [],
    );
  });
});
