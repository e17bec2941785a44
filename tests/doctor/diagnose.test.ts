// The doctor's judgement on facts, without a lab: which finding fails, with which evidence, in what order.
import { strict as assert } from "node:assert";
import { compareVersions } from "../../config/extensionVersions";
import { causeOf, certificateInUse, diagnose } from "../../doctor/diagnose";
import type { EstateFacts, UserFacts } from "../../doctor/facts";
import { userFacts } from "../../doctor/gather";
import { causeLines, doctorReport } from "../../doctor/report";
import { certificate, healthyEstate, key, now } from "./estate";

function failing(facts: EstateFacts): string[] {
  return diagnose(facts)
    .filter((finding) => finding.status === "fail")
    .map((finding) => finding.id);
}

describe("doctor: diagnose", () => {
  it("finds nothing wrong on a healthy estate, and says so for every check it made", () => {
    const findings = diagnose(healthyEstate());
    assert.equal(causeOf(findings), null);
    assert.deepEqual(
      findings.filter((finding) => finding.status !== "pass"),
      [],
    );
    for (const id of [
      "client-sp-disabled",
      "connector-sp-disabled",
      "certificate-not-registered",
      "radius-timeout-short",
      "tls12-disabled",
      "endpoint-unreachable",
      "extension-version",
    ])
      assert.ok(
        findings.some((finding) => finding.id === id),
        `no ${id} finding`,
      );
  });

  it("puts the disabled Client first when several things are wrong, as in the article", () => {
    const facts = healthyEstate();
    facts.tenant.client.accountEnabled = false;
    facts.tenant.connector.found = false;
    facts.vpnHosts[0].radiusServers[0].timeoutSeconds = 5;
    facts.tenant.client.keyCredentials = [];
    const findings = diagnose(facts);
    assert.equal(causeOf(findings), "client-sp-disabled");
    assert.deepEqual(failing(facts), [
      "client-sp-disabled",
      "connector-sp-disabled",
      "certificate-not-registered",
      "radius-timeout-short",
    ]);
    assert.match(findings[1].evidence, /no service principal for Azure Multi-Factor Auth Connector/);
    assert.equal(findings[0].fix.startsWith("`pulumi up --refresh`"), true);
    // The demo's two lines: the first failing check, not the Connector behind it.
    const [cause, fix, ...rest] = causeLines(doctorReport(findings));
    assert.match(cause, /^Sign-in fails: client-sp-disabled at tenant: .* has accountEnabled = false$/);
    assert.equal(fix, `Fix: ${findings[0].fix}`);
    assert.deepEqual(rest, []);
    assert.deepEqual(causeLines(doctorReport(diagnose(healthyEstate()))), [
      "No check fails: the tenant and servers are as MFA for VPN needs them.",
    ]);
  });

  it("fails an expired certificate, never passes it (unlike a check that compares the wrong way round)", () => {
    const facts = healthyEstate();
    const expired = certificate("B".repeat(40), -1);
    facts.npsHosts[0].certificates = [expired];
    facts.npsHosts[0].extensionSettings!.CLIENT_CERT_IDENTIFIER = expired.thumbprint;
    facts.tenant.client.keyCredentials = [key("nps01", expired)];
    const findings = diagnose(facts);
    assert.equal(causeOf(findings), "certificate-expired");
    assert.ok(
      findings
        .filter((finding) => finding.id === "certificate-expired")
        .every((finding) => finding.status === "fail"),
    );
  });

  it("warns inside the renewal window without failing", () => {
    const facts = healthyEstate();
    facts.npsHosts[0].certificates[0] = certificate("A".repeat(40), 30);
    const findings = diagnose(facts);
    assert.equal(causeOf(findings), null);
    assert.match(
      findings.find((finding) => finding.id === "certificate-renewal-due")!.evidence,
      /expires in (29|30) days/,
    );
  });

  it("follows CLIENT_CERT_IDENTIFIER to the certificate IAS uses, even when a newer one is in the store", () => {
    const facts = healthyEstate();
    const newer = certificate("C".repeat(40), 700);
    facts.npsHosts[0].certificates.push(newer);
    assert.equal(certificateInUse(facts.npsHosts[0], now)?.thumbprint, "A".repeat(40));
    assert.deepEqual(failing(facts), []);
    facts.npsHosts[0].extensionSettings!.CLIENT_CERT_IDENTIFIER = newer.thumbprint;
    assert.deepEqual(failing(facts), ["certificate-not-registered"]);
  });

  it("names the key ACL when NETWORK SERVICE cannot read the private key", () => {
    const facts = healthyEstate();
    facts.npsHosts[0].certificates[0].networkServiceCanRead = false;
    const findings = diagnose(facts);
    assert.equal(causeOf(findings), "key-acl-missing");
    assert.match(findings[0].evidence, /NETWORK SERVICE \(S-1-5-20\)/);
  });

  it("maps AADSTS codes in AuthZ event 3 to the check that explains them, with 6274 reasons and users", () => {
    const facts = healthyEstate();
    facts.npsHosts[0].events = [
      {
        logName: "AuthZAdminCh",
        id: 3,
        level: 2,
        timeCreated: now.toISOString(),
        message: "ESTS_TOKEN_ERROR: AADSTS7000112: Application is disabled.",
      },
      {
        logName: "AuthZAdminCh",
        id: 3,
        level: 2,
        timeCreated: now.toISOString(),
        message: "ESTS_TOKEN_ERROR: AADSTS500014: The service principal for resource is disabled.",
      },
      {
        logName: "Security",
        id: 6274,
        level: 0,
        timeCreated: now.toISOString(),
        message: "User:\n Account Name: alice@contoso.com\n Reason Code: 3\n",
      },
    ];
    const finding = diagnose(facts).find((entry) => entry.id === "recent-token-errors")!;
    assert.equal(finding.status, "fail");
    assert.match(finding.evidence, /AADSTS7000112 -> client-sp-disabled \(passes now\)/);
    assert.match(finding.evidence, /AADSTS500014 -> connector-sp-disabled/);
    assert.match(finding.evidence, /1 x Security 6274 \(reason 3\)/);
    assert.match(finding.evidence, /alice@contoso\.com/);
  });

  it("explains AADSTS700027 after a rotation without an IAS restart by the restart, not the registration", () => {
    const facts = healthyEstate();
    facts.npsHosts[0].iasRestartPending = true;
    facts.npsHosts[0].events = [
      {
        logName: "AuthZAdminCh",
        id: 3,
        level: 2,
        timeCreated: now.toISOString(),
        message: "ESTS_TOKEN_ERROR Msg:: AADSTS700027: Client assertion failed signature validation.",
      },
    ];
    const findings = diagnose(facts);
    assert.deepEqual(failing(facts), ["ias-restart-pending", "recent-token-errors"]);
    assert.match(findings[0].fix, /Restart-Service IAS on nps01/);
    assert.match(findings[1].evidence, /AADSTS700027 -> ias-restart-pending(?! \(passes)/);
    facts.npsHosts[0].iasRestartPending = false;
    assert.match(
      diagnose(facts).find((entry) => entry.id === "recent-token-errors")!.evidence,
      /AADSTS700027 -> certificate-not-registered/,
    );
  });

  it("says nothing about IAS restarts on a server without npsmfa's record", () => {
    const facts = healthyEstate();
    facts.npsHosts[0].iasRestartPending = null;
    assert.equal(
      diagnose(facts).some((entry) => entry.id === "ias-restart-pending"),
      false,
    );
  });

  it("keeps foreign keys out of any advice to remove, and flags an orphaned npsmfa key", () => {
    const facts = healthyEstate();
    const adfs = certificate("D".repeat(40), 300);
    const orphan = certificate("E".repeat(40), 300);
    facts.tenant.client.keyCredentials.push(key("adfs", adfs, "CN=ADFS MFA"), key("nps-retired", orphan));
    const ledger = diagnose(facts).find((entry) => entry.id === "credential-ledger")!;
    assert.equal(ledger.status, "warn");
    assert.match(ledger.evidence, /DDDDDDDD… foreign \(not npsmfa's: keep it\)/);
    assert.match(ledger.evidence, /EEEEEEEE… orphaned/);
    assert.match(ledger.evidence, /AAAAAAAA… used by nps01/);
  });

  it("refuses an extension too old for CLIENT_CERT_IDENTIFIER, comparing versions as numbers", () => {
    assert.equal(compareVersions("1.2.2893.1", "1.2.900.0"), 1);
    assert.equal(compareVersions("1.0.1.40", "1.2.2893.1"), -1);
    const facts = healthyEstate();
    facts.npsHosts[0].extensionVersion = "1.0.1.40";
    assert.deepEqual(failing(facts), ["extension-version"]);
  });

  it("fails a server below the stack's declared extension.minimumVersion", () => {
    const facts = healthyEstate();
    facts.minimumExtensionVersion = "1.2.3000.0";
    assert.deepEqual(failing(facts), ["extension-version"]);
    assert.match(
      diagnose(facts)[0].evidence,
      /version 1\.2\.2893\.1 is below the stack's extension\.minimumVersion 1\.2\.3000\.0/,
    );
    facts.minimumExtensionVersion = "1.2.2893.1";
    assert.deepEqual(failing(facts), []);
  });

  it("fails a RADIUS proxy that forwards with a timeout too short for a phone approval", () => {
    const facts = healthyEstate();
    facts.proxyHosts[0].remoteServers.push({ group: "MFA NPS", address: "nps02", timeoutSeconds: 5 });
    const findings = diagnose(facts);
    assert.deepEqual(failing(facts), ["proxy-timeout-short"]);
    assert.equal(findings[0].where, "proxy01 -> nps02 (group MFA NPS)");
    assert.match(findings[0].evidence, /5 s timeout/);
    assert.match(findings[0].fix, /on proxy01, NPS console/);
    assert.ok(
      findings.some((entry) => entry.where.startsWith("proxy01 -> nps01") && entry.status === "pass"),
    );
  });

  describe("--user", () => {
    const upn = "alice@contoso.com";
    const withUser = (user: Partial<UserFacts>) => {
      const facts = healthyEstate();
      facts.tenant.user = {
        upn,
        found: true,
        userPrincipalName: upn,
        accountEnabled: true,
        onPremisesSyncEnabled: true,
        onPremisesUserPrincipalName: upn,
        methods: ["passwordAuthenticationMethod", "microsoftAuthenticatorAuthenticationMethod"],
        ...user,
      };
      return facts;
    };

    it("passes a synced, enabled user with the Authenticator behind a PAP policy", () => {
      assert.deepEqual(failing(withUser({})), []);
    });

    it("fails a cloud UPN that differs from the on-premises one, unless an alternate login ID is set", () => {
      const facts = withUser({ onPremisesUserPrincipalName: "alice@corp.local" });
      assert.deepEqual(failing(facts), ["user-not-synced"]);
      facts.npsHosts[0].extensionSettings!.LDAP_ALTERNATE_LOGINID_ATTRIBUTE = "mail";
      assert.deepEqual(failing(facts), []);
    });

    it("fails codes-only methods behind a policy without PAP, and passes them behind PAP", () => {
      const facts = withUser({
        methods: ["passwordAuthenticationMethod", "softwareOathAuthenticationMethod"],
      });
      assert.deepEqual(failing(facts), []);
      facts.npsHosts[0].networkPolicies![0].authenticationTypes = [4];
      facts.npsHosts[0].extensionSettings!.OVERRIDE_NUMBER_MATCHING_WITH_OTP = "FALSE";
      assert.deepEqual(failing(facts), ["user-method-protocol"]);
      assert.match(
        diagnose(facts).find((entry) => entry.id === "user-method-protocol")!.evidence,
        /nps01 "Always On VPN": MS-CHAPv2/,
      );
    });

    it("fails a user with nothing but a password and methods the extension cannot use", () => {
      const facts = withUser({ methods: ["passwordAuthenticationMethod", "fido2AuthenticationMethod"] });
      assert.deepEqual(failing(facts), ["user-no-mfa-method"]);
    });

    it("reads Graph's 404 as no such user and a 403 as a warning that names the permission", () => {
      const answer = (status: number, body: unknown) => ({ status, headers: {}, body });
      const notFound = userFacts(upn, answer(404, {}), answer(404, {}));
      assert.deepEqual([notFound.found, notFound.readError], [false, undefined]);
      const facts = withUser(notFound);
      assert.deepEqual(failing(facts), ["user-not-found"]);
      const denied = userFacts(
        upn,
        answer(200, {
          userPrincipalName: upn,
          accountEnabled: true,
          onPremisesSyncEnabled: true,
          onPremisesUserPrincipalName: upn,
        }),
        answer(403, { error: { code: "Authorization_RequestDenied", message: "Insufficient privileges" } }),
      );
      const warning = diagnose(withUser(denied)).find((entry) => entry.id === "user-no-mfa-method")!;
      assert.equal(warning.status, "warn");
      assert.match(warning.evidence, /UserAuthenticationMethod\.Read\.All/);
    });
  });

  it("reports a server it could not reach instead of passing its checks", () => {
    const facts = healthyEstate();
    facts.npsHosts[0] = { ...facts.npsHosts[0], unreachable: "nps01: WinRM refused the connection" };
    const findings = diagnose(facts);
    assert.equal(causeOf(findings), "host-unreachable");
    assert.equal(
      findings.some((finding) => finding.where === "nps01" && finding.status === "pass"),
      false,
    );
  });

  describe("number matching and TOTP (number-matching-totp)", () => {
    const msChapV2Estate = () => {
      const facts = healthyEstate();
      facts.npsHosts[0].networkPolicies![0].authenticationTypes = [4];
      return facts;
    };
    const numberMatching = (facts: EstateFacts) =>
      diagnose(facts).find((entry) => entry.id === "number-matching-totp")!;

    it("fails a current extension without FALSE behind MS-CHAPv2, and names it the cause with the repair", () => {
      const facts = msChapV2Estate();
      facts.npsHosts[0].events = [
        {
          logName: "AuthZOptCh",
          id: 1,
          level: 4,
          timeCreated: now.toISOString(),
          message:
            "NPS Extension for Azure MFA: CID: x : Challenge requested in Authentication Ext for User alice",
        },
      ];
      const findings = diagnose(facts);
      assert.equal(causeOf(findings), "number-matching-totp");
      const found = numberMatching(facts);
      assert.equal(found.where, "nps01");
      assert.match(found.evidence, /version 1\.2\.2893\.1; OVERRIDE_NUMBER_MATCHING_WITH_OTP not set/);
      assert.match(found.evidence, /policies without PAP: "Always On VPN" \(MS-CHAPv2\)/);
      assert.match(found.evidence, /1 x "Challenge requested in Authentication Ext" in AuthZOptCh/);
      assert.match(found.fix, /OVERRIDE_NUMBER_MATCHING_WITH_OTP -PropertyType String -Value FALSE/);
      facts.npsHosts[0].extensionSettings!.OVERRIDE_NUMBER_MATCHING_WITH_OTP = "TRUE";
      assert.match(numberMatching(facts).evidence, /= TRUE/);
      assert.equal(numberMatching(facts).status, "fail");
    });

    it("passes with FALSE, behind PAP, or on an extension before 1.2.2216.1", () => {
      const withFalse = msChapV2Estate();
      withFalse.npsHosts[0].extensionSettings!.OVERRIDE_NUMBER_MATCHING_WITH_OTP = "FALSE";
      assert.equal(numberMatching(withFalse).status, "pass");
      assert.equal(numberMatching(healthyEstate()).status, "pass", "PAP carries the code");
      const old = msChapV2Estate();
      old.npsHosts[0].extensionVersion = "1.2.2131.2";
      assert.equal(numberMatching(old).status, "pass");
      assert.match(numberMatching(old).evidence, /predates the TOTP prompt \(1\.2\.2216\.1\)/);
    });

    it("with --user: fails for a user with a TOTP method, warns for one without", () => {
      const withCodes = msChapV2Estate();
      withCodes.tenant.user = {
        upn: "bob@contoso.com",
        found: true,
        methods: ["microsoftAuthenticatorAuthenticationMethod", "softwareOathAuthenticationMethod"],
      };
      assert.equal(numberMatching(withCodes).status, "fail");
      assert.match(
        numberMatching(withCodes).evidence,
        /bob@contoso\.com has softwareOathAuthenticationMethod/,
      );
      const pushOnly = msChapV2Estate();
      pushOnly.tenant.user = {
        upn: "alice@contoso.com",
        found: true,
        methods: ["microsoftAuthenticatorAuthenticationMethod"],
      };
      assert.equal(numberMatching(pushOnly).status, "warn");
      assert.match(numberMatching(pushOnly).evidence, /alice@contoso\.com has no TOTP method/);
    });
  });

  describe("SMS and voice retirement (user-methods-retiring)", () => {
    const phoneOnly = (at: Date) => {
      const facts = healthyEstate();
      facts.now = at.toISOString();
      facts.tenant.user = {
        upn: "carol@contoso.com",
        found: true,
        userPrincipalName: "carol@contoso.com",
        accountEnabled: true,
        onPremisesSyncEnabled: true,
        onPremisesUserPrincipalName: "carol@contoso.com",
        methods: ["passwordAuthenticationMethod", "phoneAuthenticationMethod"],
      };
      return facts;
    };
    const retiring = (facts: EstateFacts) =>
      diagnose(facts).find((entry) => entry.id === "user-methods-retiring")!;

    it("warns before 1 February 2027 with the days left, and fails from that day", () => {
      const before = retiring(phoneOnly(new Date("2027-01-22T00:00:00Z")));
      assert.equal(before.status, "warn");
      assert.match(before.evidence, /stops delivering them on 1 February 2027, in 10 days/);
      assert.equal(retiring(phoneOnly(new Date("2027-02-01T00:00:00Z"))).status, "fail");
    });

    it("passes a user who also has the Authenticator", () => {
      const facts = phoneOnly(now);
      facts.tenant.user!.methods.push("microsoftAuthenticatorAuthenticationMethod");
      assert.equal(retiring(facts).status, "pass");
    });
  });
});
