// The demo's words: a drifted setting is shown as its live value and the declared one, per server where a
// resource covers several; a create says what it will make true; the engine is chosen from PATH.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { parseDemoArguments, pulumiOnPath } from "../../demo/cli";
import { declaredSummary, driftLines, eventLines, previewLines, ResourceChange } from "../../demo/describe";
import { progressPrinter } from "../../demo/progressPrinter";
import { changeOf } from "../../demo/pulumiCliDriver";
import type { StepEventStateMetadata } from "@pulumi/pulumi/automation";
import { dynamicTypeToken } from "../../providers/resourceTypes";

const change = (
  type: Parameters<typeof dynamicTypeToken>[0],
  fields: Partial<ResourceChange>,
): ResourceChange => ({
  name: "resource",
  type: dynamicTypeToken(type),
  op: "update",
  properties: [],
  unknown: [],
  ...fields,
});

describe("demo: what a person reads", () => {
  it("a RADIUS timeout drift names each short server with its live and declared seconds", () => {
    const lines = driftLines(
      change("RadiusTimeout", {
        name: "vpn01-radius-timeout",
        properties: ["timeoutSeconds"],
        old: {
          inputs: { hostname: "vpn01", timeoutSeconds: 5 },
          outputs: { liveTimeouts: { "rras:nps01": 5, "rras:nps02": 90 } },
        },
        new: { inputs: { hostname: "vpn01", npsServers: ["nps01", "nps02"], timeoutSeconds: 60 } },
      }),
    );
    assert.deepEqual(lines, ["vpn01 RADIUS timeout for nps01: 5 s -> 60 s"]);
  });

  it("a disabled service principal and changed registry values read as live -> declared", () => {
    const connector = change("ServicePrincipalEnabled", {
      properties: ["accountEnabled"],
      old: {
        inputs: { displayName: "Azure Multi-Factor Auth Connector", accountEnabled: false },
        outputs: {},
      },
      new: { inputs: { displayName: "Azure Multi-Factor Auth Connector", accountEnabled: true } },
    });
    assert.deepEqual(driftLines(connector), ["Azure Multi-Factor Auth Connector: disabled -> enabled"]);
    const settings = change("NpsExtensionSettings", {
      properties: ["settings"],
      old: { inputs: { hostname: "nps01", settings: { TENANT_ID: "t" } }, outputs: {} },
      new: { inputs: { hostname: "nps01", settings: { TENANT_ID: "t", CLIENT_ID: "981f26a1" } } },
    });
    assert.deepEqual(driftLines(settings), ["nps01 AzureMfa CLIENT_ID: (not set) -> 981f26a1"]);
  });

  it("a value known only after an earlier step is said to be so, not printed as Pulumi's placeholder", () => {
    const keys = change("NpsSupersededKeys", {
      name: "nps01-superseded-keys",
      properties: ["keepThumbprints"],
      unknown: ["keepThumbprints"],
    });
    assert.deepEqual(driftLines(keys), [
      "nps01-superseded-keys keepThumbprints: (computed), known once the steps before it ran",
    ]);
    const restart = change("IasRestart", {
      properties: ["restartPending", "triggers"],
      unknown: ["triggers"],
      new: { inputs: { hostname: "nps01" } },
    });
    assert.deepEqual(driftLines(restart), [
      "nps01 IAS: has not loaded what the server holds now -> restarted",
    ]);
    const create = change("NpsExtensionSettings", {
      op: "create",
      new: { inputs: { hostname: "nps01", settings: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" } },
    });
    assert.doesNotMatch(declaredSummary(create), /04da6b54|0, 1, 2/);
  });

  it("an ESTS_TOKEN_ERROR event is shown by its AADSTS reason", () => {
    const [line] = eventLines([
      {
        host: "nps01",
        event: {
          logName: "AuthZAdminCh",
          id: 3,
          level: 2,
          providerName: "Microsoft-AzureMfa-AuthZ",
          timeCreated: "2026-12-02T00:00:00Z",
          message:
            "NPS Extension for Azure MFA: CID: x : Exception :: ErrorCode:: CID :x ESTS_TOKEN_ERROR Msg:: Verify the " +
            "client certificate. AADSTS500014: The service principal for resource 'Connector' is disabled.",
        },
      },
    ]);
    assert.match(line, /^nps01 AuthZAdminCh 3: ESTS_TOKEN_ERROR AADSTS500014: The service principal/);
  });

  it("a client's RasClient 20227 and an NPS audit event read as one line each, with their codes", () => {
    const lines = eventLines([
      {
        host: "nps01",
        event: {
          logName: "Security",
          id: 6274,
          level: 0,
          providerName: "Microsoft-Windows-Security-Auditing",
          timeCreated: "2026-12-02T00:00:00Z",
          message:
            "Network Policy Server discarded the request for a user.\n\nUser:\n\tAccount Name:\t\talice\n\n" +
            "Authentication Details:\n\tReason Code:\t\t\t21\n\tReason:\t\t\t\tAn NPS extension dynamic link library ...",
        },
      },
      {
        host: "client",
        event: {
          logName: "Application",
          id: 20227,
          level: 2,
          providerName: "RasClient",
          timeCreated: "2026-12-02T00:00:01Z",
          message:
            "The user alice dialed a connection named Always On VPN which has failed. The error code returned on failure is 0.",
        },
      },
    ]);
    assert.deepEqual(lines, [
      "nps01 Security 6274: Network Policy Server discarded the request for a user. (reason code 21)",
      "client Application 20227: The user alice dialed a connection named Always On VPN which has failed. (error code 0)",
    ]);
  });

  it("progress and previews show what changes, and the resources left unchanged as one count", () => {
    const said: string[] = [];
    const printer = progressPrinter(
      (line) => said.push(line),
      () => 0,
    );
    const type = dynamicTypeToken("RadiusTimeout");
    const step = (name: string, kind: "started" | "done", op: string) =>
      printer({ kind, phase: "update", urn: `urn:${name}`, type, name, op, seconds: 1 });
    step("vpn01-radius-timeout", "started", "update");
    step("nps01-extension", "started", "same");
    step("nps01-extension", "done", "same");
    step("nps02-extension", "started", "same");
    step("nps02-extension", "done", "same");
    step("vpn01-radius-timeout", "done", "update");
    printer.finish();
    assert.deepEqual(said, [
      "  [   0.0 s] started  vpn01-radius-timeout (update)",
      "  [   0.0 s] done     vpn01-radius-timeout: update (1 s)",
      "  [   0.0 s] 2 unchanged",
    ]);
    const same = change("RadiusTimeout", { name: "vpn02-radius-timeout", op: "same" });
    assert.deepEqual(previewLines([same, { ...same, name: "vpn03-radius-timeout" }]), ["  2 unchanged"]);
  });

  it("finds pulumi on PATH when it is there, and takes the engine the user names", () => {
    const bin = path.join(path.sep, "opt", "pulumi", "bin");
    const pulumi = path.join(bin, process.platform === "win32" ? "pulumi.exe" : "pulumi");
    const exists = (file: string) => file === pulumi;
    assert.equal(pulumiOnPath([path.join(path.sep, "usr", "bin"), bin].join(path.delimiter), exists), pulumi);
    assert.equal(pulumiOnPath(path.join(path.sep, "usr", "bin"), exists), undefined);
    assert.equal(pulumiOnPath(undefined, exists), undefined);
    assert.deepEqual(parseDemoArguments(["--keep", "--engine", "local"]), {
      keep: true,
      json: false,
      engine: "local",
    });
    assert.throws(
      () => parseDemoArguments(["--engine", "terraform"]),
      /expected --engine auto, local, pulumi, found "terraform"/,
    );
  });
});

describe("demo on the Pulumi CLI: a step event as the story reads it", () => {
  // What the CLI's engine events carry for an input known only after apply: the computed-value placeholder
  // (computedValuePlaceholder, pulumi pkg/resource/stack/deployment.go), nested where the value sits.
  const placeholder = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
  const type = dynamicTypeToken("NpsExtensionSettings");
  const urn = `urn:pulumi:demo::npsmfa::npsmfa:index:NpsServer$${type}::nps01-settings`;
  const stateWith = (inputs: Record<string, unknown>): StepEventStateMetadata => ({
    type,
    urn,
    custom: true,
    delete: false,
    id: "nps01",
    parent: "",
    protect: false,
    provider: "",
    inputs,
    outputs: {},
    initErrors: [],
  });

  it("marks a drifted input the engine cannot know yet as unknown, not as a drift to that placeholder", () => {
    const step = changeOf({
      op: "update",
      urn,
      type,
      provider: "",
      diffs: ["settings", "hostname"],
      old: stateWith({ hostname: "nps00", settings: { CLIENT_CERT_IDENTIFIER: "AB".repeat(20) } }),
      new: stateWith({ hostname: "nps01", settings: { CLIENT_CERT_IDENTIFIER: placeholder } }),
    });
    assert.deepEqual(step.unknown, ["settings"]);
    const lines = driftLines(step);
    assert.ok(
      lines.includes("nps01-settings settings: (computed), known once the steps before it ran"),
      lines.join("\n"),
    );
    assert.ok(!lines.join("\n").includes(placeholder), lines.join("\n"));
  });
});
