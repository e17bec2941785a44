// Property-based fuzzing of the stack configuration (fast-check): whatever Pulumi hands over, parsing
// ends in a config or in one ConfigError, never a crash; and configurations known to be wrong (one
// defect planted in a valid stack) are always refused, the defect named.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { configKeys } from "../../config/keys";
import { ConfigError, parseStackConfig, RawStackConfig } from "../../config/schema";
import { count } from "./tally";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

const server = (host: string) => ({
  hostname: host,
  winrm: { url: `https://${host}:5986/wsman`, username: "CORP\\svc", password: "pw" },
});

function validStack(): Record<string, unknown> {
  return {
    tenantId,
    npsServers: [server("nps01.corp.example.com"), server("nps02.corp.example.com")],
    vpnServers: [{ ...server("vpn01.corp.example.com"), npsServers: ["nps01.corp.example.com"] }],
  };
}

function rawOf(stack: Record<string, unknown>, extra: Partial<RawStackConfig> = {}): RawStackConfig {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(stack)) {
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secretKeys: ["npsServers", "vpnServers", "graph"], ...extra };
}

const missingFiles = () => {
  throw Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
};

/** Parses; returns the problems, or undefined when accepted. Anything but a ConfigError fails the property. */
function problemsOf(raw: RawStackConfig): string[] | undefined {
  try {
    parseStackConfig(raw);
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) assert.match(problem, /^npsmfa:\S/);
    assert.doesNotMatch(error.message, /\[object Object\]|\n\s+at /);
    return error.problems;
  }
}

/** One defect planted in a valid stack, and the setting its refusal must name. */
type Defect = { name: string; raw: RawStackConfig; names: string };

const defects: fc.Arbitrary<Defect> = fc.oneof(
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((key) => !(configKeys as readonly string[]).includes(key))
    .map((key) => ({
      name: "unknown top-level key",
      raw: rawOf(validStack(), { unknownKeys: [key] }),
      names: key,
    })),
  fc.integer({ min: -1000, max: 59 }).map((seconds) => {
    const stack = validStack();
    (stack.vpnServers as Record<string, unknown>[])[0].radiusTimeoutSeconds = seconds;
    return { name: "RADIUS timeout under 60 s", raw: rawOf(stack), names: "radiusTimeoutSeconds" };
  }),
  fc
    .stringMatching(/^[a-z0-9_!*'();@&=+$,%#\s-]{1,20}$/)
    .filter((host) => /[_!*'();@&=+$,%#\s]/.test(host))
    .map((host) => {
      const stack = validStack();
      (stack.npsServers as { winrm: Record<string, unknown> }[])[0].winrm.url = `https://${host}:5986/wsman`;
      return { name: "WinRM host not a name or address", raw: rawOf(stack), names: "winrm.url" };
    }),
  fc.constantFrom("npsServers", "vpnServers").map((list) => {
    const stack = validStack();
    const entry = (stack[list] as Record<string, unknown>[])[0];
    entry.hostnme = entry.hostname;
    return { name: "unknown nested key", raw: rawOf(stack), names: `${list}[0]` };
  }),
  fc.constant(null).map(() => {
    const { tenantId: tenant } = validStack();
    return { name: "no servers", raw: rawOf({ tenantId: tenant }), names: "npsServers" };
  }),
  fc.constantFrom("caFile", "clientCertFile", "clientKeyFile").map((setting) => {
    const stack = validStack();
    const winrm = (stack.npsServers as { winrm: Record<string, unknown> }[])[0].winrm;
    Object.assign(
      winrm,
      setting === "caFile"
        ? { caFile: "/missing/ca.pem" }
        : {
            auth: "certificate",
            clientCertFile: "/missing/c.pem",
            clientKeyFile: "/missing/c.key",
          },
    );
    return { name: `missing ${setting}`, raw: rawOf(stack, { readFile: missingFiles }), names: setting };
  }),
  fc.constantFrom("ftp://x/wsman", "nps01:5986").map((url) => {
    const stack = validStack();
    (stack.npsServers as { winrm: Record<string, unknown> }[])[0].winrm.url = url;
    return { name: "not an http(s) WinRM URL", raw: rawOf(stack), names: "winrm.url" };
  }),
  // Plain HTTP is encrypted by NTLM only: Basic over it would send the password readable.
  fc.constant(null).map(() => {
    const stack = validStack();
    const winrm = (stack.npsServers as { winrm: Record<string, unknown> }[])[0].winrm;
    winrm.url = "http://nps01.corp.example.com:5985/wsman";
    winrm.auth = "basic";
    return { name: "Basic over plain HTTP", raw: rawOf(stack), names: "winrm" };
  }),
);

describe("config schema under property-based fuzzing", function () {
  this.timeout(120_000);

  it("never crashes: any text for any key ends in a config or one ConfigError", () => {
    const keys = fc.constantFrom(...configKeys, "npsServer", "radiusTimeoutSeconds", "tenantonly");
    const text = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.constantFrom("true", "false", "null", "[]", "{}", '[{"winrm":null}]', '[{"hostname":1,"winrm":{}}]'),
    );
    let runs = 0;
    fc.assert(
      fc.property(fc.dictionary(keys, text), fc.boolean(), (entries, withFiles) => {
        runs++;
        const values: Record<string, string> = {};
        const unknownKeys: string[] = [];
        for (const [key, value] of Object.entries(entries)) {
          if ((configKeys as readonly string[]).includes(key)) values[key] = value;
          else unknownKeys.push(key);
        }
        problemsOf({
          values,
          secretKeys: [...configKeys],
          unknownKeys,
          readFile: withFiles ? missingFiles : undefined,
        });
      }),
      { numRuns: 1000 },
    );
    assert.equal(runs, 1000);
  });

  it("never crashes on a valid stack with any one value anywhere replaced by anything", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("npsServers", "vpnServers"),
        fc.nat(40),
        fc.jsonValue(),
        (list, pick, value) => {
          const stack = validStack();
          const entry = (stack[list] as Record<string, unknown>[])[0];
          const fields = [entry, entry.winrm as Record<string, unknown>];
          const target = fields[pick % 2];
          const names = Object.keys(target);
          target[names[pick % names.length]] = value;
          problemsOf(rawOf(stack));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("refuses every configuration with a planted defect, naming it", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(defects, (defect) => {
        const problems = problemsOf(defect.raw);
        if (problems === undefined) {
          accepted++;
          return false;
        }
        refused++;
        const named = [defect.names, JSON.stringify(defect.names)];
        return problems.some((problem) => named.some((name) => problem.includes(name)));
      }),
      { numRuns: 500 },
    );
    count({ badConfigsAccepted: accepted });
    assert.equal(accepted, 0);
    assert.ok(refused >= 500);
  });
});
