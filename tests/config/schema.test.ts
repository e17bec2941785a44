import * as assert from "node:assert/strict";
import { ConfigError, parseStackConfig, RawStackConfig } from "../../config/schema";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

function endpoint(host: string, overrides: Record<string, unknown> = {}) {
  return {
    url: `https://${host}:5986/wsman`,
    auth: "ntlm",
    username: "CORP\\svc-npsmfa",
    password: "Winrm-P@ss-1",
    ...overrides,
  };
}

function validInput() {
  return {
    tenantId,
    npsServers: [
      { hostname: "nps01.corp.example.com", winrm: endpoint("nps01.corp.example.com") },
      { hostname: "nps02.corp.example.com", winrm: endpoint("nps02.corp.example.com") },
    ] as Record<string, unknown>[],
    vpnServers: [
      {
        hostname: "vpn01.corp.example.com",
        winrm: endpoint("vpn01.corp.example.com"),
        npsServers: ["nps01.corp.example.com", "nps02.corp.example.com"],
      },
    ] as Record<string, unknown>[],
  };
}

function raw(
  input: Record<string, unknown>,
  secretKeys: RawStackConfig["secretKeys"] = ["npsServers", "vpnServers", "graph"],
) {
  const values: RawStackConfig["values"] = {};
  for (const [key, value] of Object.entries(input)) {
    (values as Record<string, string>)[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secretKeys };
}

function problemsOf(input: Record<string, unknown>, secretKeys?: RawStackConfig["secretKeys"]): string[] {
  try {
    parseStackConfig(raw(input, secretKeys));
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail("expected the configuration to be rejected");
}

function onlyProblem(input: Record<string, unknown>): string {
  const problems = problemsOf(input);
  assert.equal(problems.length, 1, `expected exactly one problem, got:\n${problems.join("\n")}`);
  return problems[0];
}

describe("stack configuration", () => {
  it("accepts the example stack and fills in the documented defaults", () => {
    const config = parseStackConfig(raw(validInput()));
    assert.equal(config.cloud, "public");
    assert.equal(config.npsServers[0].certificateRenewalDays, 60);
    assert.equal(config.vpnServers[0].radiusTimeoutSeconds, 60);
    assert.equal(config.npsServers[0].winrm.operationTimeoutSeconds, 60);
    assert.deepEqual(config.extension, {});
  });

  it("normalises a pinned thumbprint written with colons and lower case", () => {
    const input = validInput();
    input.npsServers[0].winrm = endpoint("nps01.corp.example.com", {
      thumbprint: "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01",
    });
    const config = parseStackConfig(raw(input));
    assert.equal(config.npsServers[0].winrm.thumbprint, "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
  });

  it("rejects a tenant ID that is not a GUID, naming what it found", () => {
    const problem = onlyProblem({ ...validInput(), tenantId: "contoso.onmicrosoft.com" });
    assert.match(problem, /^npsmfa:tenantId: expected the Entra tenant ID, a GUID/);
    assert.match(problem, /found "contoso\.onmicrosoft\.com"/);
  });

  it("rejects a missing tenant ID and says how to set it", () => {
    const { tenantId: _omit, ...input } = validInput();
    const problem = onlyProblem(input);
    assert.match(problem, /npsmfa:tenantId: expected the Entra tenant ID, found nothing/);
    assert.match(problem, /pulumi config set npsmfa:tenantId <guid>/);
  });

  it("rejects an unknown cloud and lists the known ones", () => {
    const problem = onlyProblem({ ...validInput(), cloud: "azure-germany" });
    assert.equal(
      problem,
      'npsmfa:cloud: expected one of public, usgov, usgovdod, china, found "azure-germany"',
    );
  });

  it("rejects a host name with characters DNS does not allow", () => {
    const input = validInput();
    input.npsServers[1].hostname = "nps_02.corp.example.com";
    input.vpnServers[0].npsServers = ["nps01.corp.example.com"];
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:npsServers\[1\]\.hostname: expected a DNS host name/);
    assert.match(problem, /found "nps_02\.corp\.example\.com"/);
  });

  it("rejects the same NPS server listed twice, whatever the case", () => {
    const input = validInput();
    input.npsServers[1].hostname = "NPS01.corp.example.com";
    input.vpnServers[0].npsServers = ["nps01.corp.example.com"];
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:npsServers\[1\]\.hostname: expected each host once/);
    assert.match(problem, /found "NPS01\.corp\.example\.com" again \(also npsServers\[0\]\)/);
  });

  it("rejects a VPN server that sends RADIUS to an NPS server the stack does not manage", () => {
    const input = validInput();
    input.vpnServers[0].npsServers = ["nps01.corp.example.com", "nps09.corp.example.com"];
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:vpnServers\[0\]\.npsServers\[1\] \(host vpn01\.corp\.example\.com\)/);
    assert.match(problem, /expected one of the configured NPS servers \(nps01\.corp\.example\.com, nps02/);
    assert.match(problem, /found "nps09\.corp\.example\.com"/);
  });

  it("rejects a RADIUS timeout under 60 s and explains the symptom users would see", () => {
    const input = validInput();
    input.vpnServers[0].radiusTimeoutSeconds = 30;
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:vpnServers\[0\]\.radiusTimeoutSeconds \(host vpn01\.corp\.example\.com\)/);
    assert.match(problem, /expected at least 60 seconds, found 30/);
    assert.match(problem, /the port used for this connection was closed/);
    assert.match(problem, /RasClient event 20227 on the client/);
  });

  it("rejects Basic authentication over plain HTTP", () => {
    const input = validInput();
    input.npsServers[0].winrm = endpoint("nps01.corp.example.com", {
      url: "http://nps01.corp.example.com:5985/wsman",
      auth: "basic",
    });
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:npsServers\[0\]\.winrm\.url \(host nps01\.corp\.example\.com\)/);
    assert.match(problem, /expected an https:\/\/ URL for Basic authentication/);
    assert.match(problem, /readable to anyone on the network/);
    assert.doesNotMatch(problem, /Winrm-P@ss-1/);
  });

  it("accepts plain HTTP with NTLM (messages encrypted), and refuses it for a client certificate", () => {
    const input = validInput();
    input.vpnServers[0].winrm = endpoint("vpn01.corp.example.com", {
      url: "http://vpn01.corp.example.com:5985/wsman",
    });
    const config = parseStackConfig(raw(input));
    assert.equal(config.vpnServers[0].winrm.url, "http://vpn01.corp.example.com:5985/wsman");
    input.vpnServers[0].winrm = endpoint("vpn01.corp.example.com", {
      url: "http://vpn01.corp.example.com:5985/wsman",
      auth: "certificate",
    });
    assert.ok(
      problemsOf(input).some((problem) =>
        /vpnServers\[0\]\.winrm\.url .*expected an https:\/\/ URL for certificate authentication/.test(
          problem,
        ),
      ),
    );
  });

  it("rejects a missing WinRM password and shows the secret-setting command for that path", () => {
    const input = validInput();
    const { password: _omit, ...winrm } = endpoint("nps02.corp.example.com");
    input.npsServers[1].winrm = winrm;
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:npsServers\[1\]\.winrm\.password \(host nps02\.corp\.example\.com\)/);
    assert.match(problem, /pulumi config set --secret --path 'npsServers\[1\]\.winrm\.password' <password>/);
  });

  it("rejects a password kept in plain text in the stack file", () => {
    const problems = problemsOf(validInput(), ["vpnServers"]);
    assert.equal(problems.length, 2);
    assert.match(
      problems[0],
      /npsServers\[0\]\.winrm\.password: expected an encrypted secret, found a value stored in plain text/,
    );
    assert.ok(
      problems.every((problem) => !problem.includes("Winrm-P@ss-1")),
      "no problem may echo the password",
    );
  });

  it("never echoes a password, even when it has the wrong type", () => {
    const input = validInput();
    input.npsServers[0].winrm = endpoint("nps01.corp.example.com", { password: 123456789 });
    const problem = onlyProblem(input);
    assert.match(problem, /winrm\.password .*expected the WinRM password as text, found a number/);
    assert.doesNotMatch(problem, /123456789/);
  });

  it("rejects certificate authentication without the client certificate and key", () => {
    const input = validInput();
    input.npsServers[0].winrm = { url: "https://nps01.corp.example.com:5986/wsman", auth: "certificate" };
    const problems = problemsOf(input);
    assert.deepEqual(
      problems.map((problem) => problem.split(" (host")[0]),
      ["npsmfa:npsServers[0].winrm.clientCertFile", "npsmfa:npsServers[0].winrm.clientKeyFile"],
    );
  });

  it("rejects a misspelt setting instead of silently ignoring it", () => {
    const input = validInput();
    input.vpnServers[0].radiusTimeout = 90;
    const problem = onlyProblem(input);
    assert.match(problem, /^npsmfa:vpnServers\[0\] .*found unknown "radiusTimeout"/);
  });

  it("rejects a malformed thumbprint and an IP whitelist entry that is not an IPv4 address", () => {
    const input = { ...validInput(), extension: { ipWhitelist: ["10.0.0.5", "10.0.0.0/8"] } };
    input.npsServers[0].winrm = endpoint("nps01.corp.example.com", { thumbprint: "not-a-thumbprint" });
    const problems = problemsOf(input);
    assert.equal(problems.length, 2);
    assert.match(
      problems[0],
      /extension\.ipWhitelist\[1\]: expected an IPv4 address .* found "10\.0\.0\.0\/8"/,
    );
    assert.match(problems[1], /winrm\.thumbprint .*expected a SHA-1 \(40 hex digits\) or SHA-256/);
  });

  it("takes radiusAuthentication pap, mschapv2 or eap, and names the choices for anything else", () => {
    for (const protocol of ["pap", "mschapv2", "eap"])
      assert.equal(
        parseStackConfig(raw({ ...validInput(), radiusAuthentication: protocol })).radiusAuthentication,
        protocol,
      );
    assert.equal(parseStackConfig(raw(validInput())).radiusAuthentication, undefined);
    assert.match(
      onlyProblem({ ...validInput(), radiusAuthentication: "chap" }),
      /^npsmfa:radiusAuthentication: expected one of pap, mschapv2, eap \(the authentication method the NPS servers' network policy allows\), found "chap"/,
    );
  });

  it("takes extension.minimumVersion from 1.2.2893.1 on, which reads the thumbprint npsmfa pins", () => {
    const minimum = (version: unknown) => ({ ...validInput(), extension: { minimumVersion: version } });
    assert.equal(parseStackConfig(raw(minimum("1.2.10000.0"))).extension.minimumVersion, "1.2.10000.0");
    assert.match(
      onlyProblem(minimum("1.2.900.0")),
      /extension\.minimumVersion: expected 1\.2\.2893\.1 or later, found "1\.2\.900\.0"\. npsmfa pins .* CLIENT_CERT_IDENTIFIER/,
    );
    assert.match(
      onlyProblem(minimum("latest")),
      /expected an extension version such as 1\.2\.2893\.1, found "latest"/,
    );
  });

  it("takes extension.installer from an https URL, a UNC path or a local path, with its SHA-256", () => {
    const sha256 = "ab".repeat(32);
    const installer = (source: unknown, hash: unknown = sha256) => ({
      ...validInput(),
      extension: { minimumVersion: "1.2.2893.1", installer: { source, sha256: hash } },
    });
    for (const source of [
      "https://files.corp.example/npsmfa/NpsExtnForAzureMfaInstaller.exe",
      "\\\\files\\npsmfa\\NpsExtnForAzureMfaInstaller.exe",
      "C:\\Installers\\NpsExtnForAzureMfaInstaller.exe",
    ])
      assert.deepEqual(parseStackConfig(raw(installer(source))).extension.installer, { source, sha256 });
    assert.match(
      onlyProblem(installer("http://files.corp.example/NpsExtnForAzureMfaInstaller.exe")),
      /^npsmfa:extension\.installer\.source: expected an https:\/\/ URL, a UNC path .*, found "http:\/\/files/,
    );
    const withToken = onlyProblem(installer("http://files.corp.example/x.exe?sig=secret-token"));
    assert.match(withToken, /found "http:\/\/files\.corp\.example\/x\.exe\?<query hidden>"/);
    assert.doesNotMatch(withToken, /secret-token/);
    assert.match(
      onlyProblem(installer("https://files.corp.example/npsmfa/")),
      /extension\.installer\.source: expected a URL whose path names the installer's \.exe/,
    );
    assert.match(
      onlyProblem(installer("https://files.corp.example/x.exe", "abc")),
      /^npsmfa:extension\.installer\.sha256: expected the installer's SHA-256 as 64 hex digits, found "abc"\. Get-FileHash/,
    );
    assert.match(
      onlyProblem({ ...validInput(), extension: { installer: { source: "C:\\x.exe" } } }),
      /extension\.installer\.sha256: expected the installer's SHA-256 as 64 hex digits, found nothing/,
    );
  });

  it("takes iasHealthCheckSeconds as Pulumi hands a number over (text), 10 when unset, and names it when wrong", () => {
    assert.equal(parseStackConfig(raw(validInput())).iasHealthCheckSeconds, 10);
    assert.equal(
      parseStackConfig(raw({ ...validInput(), iasHealthCheckSeconds: "30" })).iasHealthCheckSeconds,
      30,
    );
    assert.match(
      onlyProblem({ ...validInput(), iasHealthCheckSeconds: "ten" }),
      /^npsmfa:iasHealthCheckSeconds: expected a whole number of seconds, found "ten"/,
    );
    assert.match(
      onlyProblem({ ...validInput(), iasHealthCheckSeconds: "301" }),
      /^npsmfa:iasHealthCheckSeconds: expected at most 300 seconds, found 301/,
    );
  });

  it("rejects a renewal window as long as the certificate's life", () => {
    const input = validInput();
    input.npsServers[0].certificateRenewalDays = 730;
    assert.match(onlyProblem(input), /certificateRenewalDays .*expected fewer than 730 days, found 730/);
  });

  it("reports every problem at once, in one error", () => {
    const input = { ...validInput(), tenantId: "x", cloud: "mars" };
    input.vpnServers[0].radiusTimeoutSeconds = 5;
    input.vpnServers[0].npsServers = ["nps07.corp.example.com"];
    let message = "";
    try {
      parseStackConfig(raw(input));
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /^The stack configuration has 4 problems:/);
    for (const setting of ["tenantId", "cloud", "radiusTimeoutSeconds", "npsServers\\[0\\]"]) {
      assert.match(message, new RegExp(`npsmfa:\\S*${setting}`));
    }
  });

  it("rejects structured settings that are not YAML lists or maps", () => {
    const problems = problemsOf({ tenantId, npsServers: "nps01.corp.example.com" });
    assert.deepEqual(problems, [
      "npsmfa:npsServers: expected structured YAML (a list or a map), found text that is not",
    ]);
  });

  it("requires the application ID when a Graph client secret is given", () => {
    const problem = onlyProblem({ ...validInput(), graph: { clientSecret: "graph-s3cret" } });
    assert.match(problem, /^npsmfa:graph\.clientId: expected the application \(client\) ID/);
  });

  describe("settings that would be silently ignored", () => {
    const problemsWith = (input: Record<string, unknown>, extra: Partial<RawStackConfig>) => {
      try {
        parseStackConfig({ ...raw(input), ...extra });
      } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        return error.problems;
      }
      assert.fail("expected the configuration to be rejected");
    };

    it("rejects a misspelt top-level setting with a did-you-mean, and the stack left without servers", () => {
      const { npsServers, ...rest } = validInput();
      const problems = problemsWith({ ...rest, vpnServers: [] }, { unknownKeys: ["npsServer"] });
      assert.equal(problems.length, 2, problems.join("\n"));
      assert.match(
        problems.join("\n"),
        /npsmfa:npsServer: .*found unknown "npsServer"; did you mean "npsServers"\?/,
      );
      assert.match(problems.join("\n"), /expected at least one NPS or VPN server, found neither/);
      assert.ok(npsServers.length > 0);
    });

    it("rejects a server setting put at the top level, naming where it belongs", () => {
      const problems = problemsWith(validInput(), { unknownKeys: ["radiusTimeoutSeconds"] });
      assert.deepEqual(problems, [
        'npsmfa:radiusTimeoutSeconds: expected only documented settings, found unknown "radiusTimeoutSeconds"; ' +
          "it is not a setting here but of `vpnServers[].radiusTimeoutSeconds` and `radiusProxies[].radiusTimeoutSeconds`",
      ]);
    });

    it("offers the closest setting for a misspelt nested key", () => {
      const input = validInput();
      input.npsServers[0].winrm = { ...endpoint("nps01.corp.example.com"), usernme: "x" };
      assert.match(
        onlyProblem(input),
        /winrm \(host nps01\.corp\.example\.com\): .*"usernme"; did you mean "username"\?/,
      );
    });

    it("refuses a stack with no servers unless it says it manages only the tenant", () => {
      assert.match(onlyProblem({ tenantId }), /^npsmfa:npsServers: expected at least one NPS or VPN server/);
      assert.equal(parseStackConfig(raw({ tenantId, tenantOnly: "true" })).tenantOnly, true);
      assert.match(
        onlyProblem({ ...validInput(), tenantOnly: "true" }),
        /^npsmfa:tenantOnly: expected it only on a stack without servers/,
      );
      assert.match(
        onlyProblem({ ...validInput(), tenantOnly: "yes" }),
        /^npsmfa:tenantOnly: expected true or false, found "yes"/,
      );
    });

    it("refuses a WinRM URL whose host is neither a DNS name nor an IP address", () => {
      const input = validInput();
      input.npsServers[0].winrm = endpoint("nps01.corp.example.com", {
        url: "https://nps_01.corp:5986/wsman",
      });
      assert.match(
        onlyProblem(input),
        /winrm\.url .*whose host is a DNS name or an IP address, .*found "https:\/\/nps_01/,
      );
      // Found by tests/reliability/configFuzz: URL parsing drops "\r" and hides what follows "#".
      for (const url of [
        "https://nps01\r:5986/wsman",
        "https://nps01#x:5986/wsman",
        "https://@nps01:5986/wsman",
      ]) {
        const bad = validInput();
        bad.npsServers[0].winrm = endpoint("nps01.corp.example.com", { url });
        assert.match(onlyProblem(bad), /winrm\.url .*expected a WinRM URL without/);
      }
      for (const url of ["https://10.1.2.3:5986/wsman", "https://[fd00::5]:5986/wsman"]) {
        const ok = validInput();
        ok.npsServers[0].winrm = endpoint("nps01.corp.example.com", { url });
        assert.equal(parseStackConfig(raw(ok)).npsServers[0].winrm.url, url);
      }
    });

    it("refuses missing and unparseable CA, client certificate and key files, never echoing a key", () => {
      const files: Record<string, string> = {
        "/pki/ca.pem": "not a certificate",
        "/pki/client.pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "/pki/client.key": "-----BEGIN PRIVATE KEY-----\nS3cretKeyMaterial\n-----END PRIVATE KEY-----\n",
      };
      const readFile = (file: string) => {
        if (file in files) return Buffer.from(files[file]);
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), {
          code: "ENOENT",
        });
      };
      const input = { ...validInput(), graph: { caFile: "/pki/graph-ca.pem" } };
      input.npsServers[0].winrm = endpoint("nps01.corp.example.com", { caFile: "/pki/ca.pem" });
      input.vpnServers[0].winrm = {
        url: "https://vpn01.corp.example.com:5986/wsman",
        auth: "certificate",
        clientCertFile: "/pki/client.pem",
        clientKeyFile: "/pki/client.key",
      };
      const problems = problemsWith(input, { readFile });
      assert.deepEqual(
        problems.map((problem) => problem.split(": expected")[0]),
        [
          "npsmfa:graph.caFile",
          "npsmfa:npsServers[0].winrm.caFile (host nps01.corp.example.com)",
          "npsmfa:vpnServers[0].winrm.clientCertFile (host vpn01.corp.example.com)",
          "npsmfa:vpnServers[0].winrm.clientKeyFile (host vpn01.corp.example.com)",
        ],
      );
      const text = problems.join("\n");
      assert.match(text, /"\/pki\/graph-ca\.pem", which does not exist/);
      assert.match(text, /"\/pki\/ca\.pem", which holds no PEM certificate/);
      assert.match(text, /"\/pki\/client\.pem", which holds a certificate that does not parse/);
      assert.match(text, /"\/pki\/client\.key", which holds no private key that can be read/);
      assert.doesNotMatch(text, /ENOENT|S3cretKeyMaterial|at \S+ \(/);
    });
  });
});
