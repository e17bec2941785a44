// RADIUS proxies are their own role: the program manages forwarding timeouts on them and never on an NPS
// server running the extension (Microsoft: such a server cannot forward RADIUS), and the config refuses a
// host declared as both.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../../config/schema";
import { buildProgram } from "../../program";
import { dynamicTypeNames, dynamicTypeToken } from "../../providers/resourceTypes";
import { timeoutDrift } from "../../providers/windows/radiusTimeout";
import { project, stackName, waitForRegistrations } from "../../engine/stack";
import { RegisteredResource } from "../support/pulumiProgram";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const server = (hostname: string) => ({
  hostname,
  winrm: {
    url: `https://${hostname}:5986/wsman`,
    auth: "certificate",
    clientCertFile: "c",
    clientKeyFile: "k",
  },
});
const configOf = (values: Record<string, unknown>) =>
  parseStackConfig({
    values: Object.fromEntries(
      Object.entries({ tenantId, ...values }).map(([key, value]) => [
        key,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
    secretKeys: [],
  });

/** The program under mocks whose NPS certificates exist, so the NPS servers' chains resolve. */
async function registered(values: Record<string, unknown>): Promise<RegisteredResource[]> {
  const resources: RegisteredResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        const certificate = { derBase64: "", thumbprint: "A".repeat(40), notBefore: "", notAfter: "" };
        const state = { ...args.inputs, certificate, changedAt: "", restartedAt: "", liveTimeouts: {} };
        return { id: `${args.name}-id`, state };
      },
      call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    },
    project,
    stackName,
    false,
  );
  buildProgram(configOf(values));
  await waitForRegistrations();
  return resources;
}

describe("RADIUS proxies", function () {
  this.timeout(120_000);

  it("get the forwarding timeout; extension NPS servers manage no remote RADIUS server groups", async () => {
    const resources = await registered({
      npsServers: [server("nps01.corp.example.com")],
      vpnServers: [{ ...server("vpn01.corp.example.com"), npsServers: ["nps01.corp.example.com"] }],
      radiusProxies: [{ ...server("proxy01.corp.example.com"), radiusTimeoutSeconds: 90 }],
    });
    const timeouts = resources.filter((r) => r.type === dynamicTypeToken(dynamicTypeNames.radiusTimeout));
    assert.deepEqual(
      timeouts
        .map((r) => [r.inputs.hostname, r.inputs.remoteServerGroups ?? false, r.inputs.timeoutSeconds])
        .sort(),
      [
        ["proxy01.corp.example.com", true, 90],
        ["vpn01.corp.example.com", false, 60],
      ],
    );
    assert.ok(resources.some((r) => r.type === "npsmfa:index:RadiusProxy"));
    assert.ok(resources.some((r) => r.type === dynamicTypeToken(dynamicTypeNames.iasRestart)));
  });

  it("refuses an extension NPS server declared as a proxy", () => {
    assert.throws(
      () =>
        configOf({
          npsServers: [server("nps01.corp.example.com")],
          radiusProxies: [server("NPS01.corp.example.com")],
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /npsmfa:radiusProxies\[0\]\.hostname: expected an NPS server without the MFA extension, found "NPS01\.corp\.example\.com", which is also in npsmfa:npsServers/.test(
          error.message,
        ),
    );
  });

  it("drift: a blackout shorter than its server's timeout (or the declared one), and an IAS not reset since a change", () => {
    const declared = {
      hostname: "proxy01",
      winrm: { url: "https://proxy01:5986/wsman", auth: "ntlm" as const, operationTimeoutSeconds: 60 },
      npsServers: [],
      timeoutSeconds: 60,
      remoteServerGroups: true,
    };
    const live = {
      ...declared,
      liveTimeouts: { "nps-group:MFA/a": 60, "nps-group:MFA/b": 90, "nps-group:MFA/c": 60 },
      liveBlackouts: { "nps-group:MFA/a": 30, "nps-group:MFA/b": 60, "nps-group:MFA/c": 60 },
      resetPending: false,
    };
    assert.deepEqual(timeoutDrift(live, declared), [
      "blackout of nps-group:MFA/a",
      "blackout of nps-group:MFA/b",
    ]);
    const fixed = {
      ...live,
      liveBlackouts: { "nps-group:MFA/a": 60, "nps-group:MFA/b": 90, "nps-group:MFA/c": 120 },
    };
    assert.deepEqual(timeoutDrift(fixed, declared), []);
    assert.deepEqual(timeoutDrift({ ...fixed, resetPending: true }, declared), ["IAS reset pending"]);
  });
});
