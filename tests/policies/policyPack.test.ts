// Loads the pack's entry in a fresh Node process, as `pulumi preview --policy-pack policies` does, and talks
// to the analyzer server it starts over gRPC, as the engine does.
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Policy } from "@pulumi/policy";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { dynamicTypeNames, dynamicTypeToken } from "../../providers/resourceTypes";
import { urnOf, winrm } from "./fakes";

const packDirectory = path.resolve(__dirname, "../../policies");
const rulesDirectory = path.join(packDirectory, "rules");
const { EnforcementLevel } = analyzerProto;

/** Every policy any module under policies/rules exports, found without asking policies/index.ts. */
function rulePolicies(): Policy[] {
  const found: Policy[] = [];
  for (const file of fs.readdirSync(rulesDirectory).filter((name) => name.endsWith(".ts"))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(path.join(rulesDirectory, file)) as Record<string, unknown>;
    for (const value of Object.values(exported)) {
      const candidate = value as Partial<Policy> & Record<string, unknown>;
      if (
        candidate &&
        typeof candidate.name === "string" &&
        ("validateResource" in candidate || "validateStack" in candidate)
      ) {
        found.push(candidate as Policy);
      }
    }
  }
  return found;
}

interface RunningPack {
  child: ChildProcess;
  port: number;
  stdoutLines: () => string[];
  stderr: () => string;
  client: analyzerRpc.AnalyzerClient;
}

/** Starts `node <args>` in policies/ and waits for the port the analyzer server prints. */
function startPack(args: string[]): Promise<RunningPack> {
  const child = spawn(process.execPath, args, { cwd: packDirectory, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port within 45 s; stderr: ${stderr}`)), 45_000);
    child.once("exit", (code, signal) =>
      reject(new Error(`the pack exited (${code ?? signal}) before serving; stderr: ${stderr}`)),
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const first = stdout.split("\n")[0];
      if (!stdout.includes("\n") || !/^\d+$/.test(first.trim())) return;
      clearTimeout(timer);
      const port = Number(first.trim());
      resolve({
        child,
        port,
        stdoutLines: () => stdout.split("\n").filter((line) => line.trim() !== ""),
        stderr: () => stderr,
        client: new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()),
      });
    });
  });
}

function stopPack(pack: RunningPack | undefined): void {
  pack?.client.close();
  if (pack && pack.child.exitCode === null && pack.child.signalCode === null) pack.child.kill();
}

function call<Request, Response>(
  method: (
    request: Request,
    callback: (error: grpc.ServiceError | null, response: Response) => void,
  ) => unknown,
  request: Request,
): Promise<Response> {
  return new Promise((resolve, reject) =>
    method(request, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** TCP sockets the process listens on (Linux /proc): the analyzer server is one of them. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: "utf8" });
    const match = /^socket:\[(\d+)\]$/.exec(link);
    if (match) inodes.add(match[1]);
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    for (const line of fs.readFileSync(`/proc/${pid}/net/${table}`, "utf8").split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is fields[1] (ip:port in hex), st is fields[3] (0A = LISTEN), inode is fields[9].
      if (fields.length > 9 && fields[3] === "0A" && inodes.has(fields[9])) {
        ports.push(parseInt(fields[1].split(":")[1], 16));
      }
    }
  }
  return ports;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function analyzeRequest(
  type: string,
  name: string,
  props: Record<string, unknown>,
): analyzerProto.AnalyzeRequest {
  const request = new analyzerProto.AnalyzeRequest();
  request.setType(type);
  request.setName(name);
  request.setUrn(urnOf(type, name));
  request.setProperties(Struct.fromJavaScript(props as Parameters<typeof Struct.fromJavaScript>[0]));
  request.setOptions(new analyzerProto.AnalyzerResourceOptions());
  return request;
}

const vpn01 = "vpn01.corp.example.com";
// A RADIUS timeout of 75 s, reached with Basic over plain HTTP: two violations under the default configuration.
const radiusTimeoutOverHttp = analyzeRequest(
  dynamicTypeToken(dynamicTypeNames.radiusTimeout),
  "vpn01-radius-timeout",
  {
    hostname: vpn01,
    winrm: { ...winrm(vpn01, { auth: "basic" }), url: `http://${vpn01}:5985/wsman` },
    npsServers: ["nps01.corp.example.com"],
    timeoutSeconds: 75,
  },
);

describe("policy pack entry (policies/index.ts) in its own Node process", () => {
  let pack: RunningPack | undefined;

  before(async () => {
    pack = await startPack(["-r", "ts-node/register/transpile-only", "index.ts"]);
  });

  after(() => stopPack(pack));

  it("registers every rule module's policy with the analyzer server, as GetAnalyzerInfo tells the engine", async () => {
    const running = pack as RunningPack;
    const info = await call<Empty, analyzerProto.AnalyzerInfo>(
      running.client.getAnalyzerInfo.bind(running.client),
      new Empty(),
    );
    assert.equal(info.getName(), "npsmfa-ests-token-error");
    assert.equal(info.getVersion(), "0.1.0");
    const expected = rulePolicies();
    assert.equal(expected.length, 12);
    const served = info.getPoliciesList();
    assert.deepEqual(
      served.map((policy) => policy.getName()).sort(),
      expected.map((policy) => policy.name).sort(),
    );
    for (const policy of expected) {
      const servedPolicy = served.find((candidate) => candidate.getName() === policy.name);
      const level =
        policy.enforcementLevel === "mandatory" ? EnforcementLevel.MANDATORY : EnforcementLevel.ADVISORY;
      assert.equal(servedPolicy?.getEnforcementlevel(), level, policy.name);
      assert.equal(Boolean(servedPolicy?.getConfigschema()), Boolean(policy.configSchema), policy.name);
    }
  });

  it("started exactly one server and keeps running on its own", async () => {
    const running = pack as RunningPack;
    await sleep(1000);
    assert.deepEqual(running.stdoutLines(), [String(running.port)]);
    assert.doesNotMatch(running.stderr(), /Already serving/);
    assert.equal(running.child.exitCode, null);
    assert.equal(running.child.signalCode, null);
    if (process.platform === "linux") {
      assert.deepEqual(listeningPorts(running.child.pid as number), [running.port]);
    }
  });

  it("enforces the defaults, then honours an enforcement level and a threshold set through Configure", async () => {
    const running = pack as RunningPack;
    const analyze = running.client.analyze.bind(running.client);
    const defaults = await call<analyzerProto.AnalyzeRequest, analyzerProto.AnalyzeResponse>(
      analyze,
      radiusTimeoutOverHttp,
    );
    const byPolicy = (response: analyzerProto.AnalyzeResponse) =>
      Object.fromEntries(response.getDiagnosticsList().map((d) => [d.getPolicyname(), d]));
    const before = byPolicy(defaults);
    assert.deepEqual(Object.keys(before).sort(), ["winrm-https-verified"]);
    assert.equal(before["winrm-https-verified"].getEnforcementlevel(), EnforcementLevel.MANDATORY);

    const configure = new analyzerProto.ConfigureAnalyzerRequest();
    const radius = new analyzerProto.PolicyConfig();
    radius.setEnforcementlevel(EnforcementLevel.ADVISORY);
    radius.setProperties(Struct.fromJavaScript({ minimumSeconds: 90 }));
    configure.getPolicyconfigMap().set("radius-timeout-minimum", radius);
    const winrmPolicy = new analyzerProto.PolicyConfig();
    winrmPolicy.setEnforcementlevel(EnforcementLevel.DISABLED);
    // The engine always sends a properties Struct, empty when the policy has no settings.
    winrmPolicy.setProperties(Struct.fromJavaScript({}));
    configure.getPolicyconfigMap().set("winrm-https-verified", winrmPolicy);
    await call(running.client.configure.bind(running.client), configure);

    const after = byPolicy(await call(analyze, radiusTimeoutOverHttp));
    assert.deepEqual(Object.keys(after).sort(), ["radius-timeout-minimum"]);
    assert.equal(after["radius-timeout-minimum"].getEnforcementlevel(), EnforcementLevel.ADVISORY);
    assert.match(
      after["radius-timeout-minimum"].getMessage(),
      /RADIUS timeout is 75 s .*below the minimum of 90 s/,
    );
  });
});

describe("policy pack under Pulumi's own runner (@pulumi/pulumi/cmd/run-policy-pack, type-checked)", () => {
  let pack: RunningPack | undefined;

  after(() => stopPack(pack));

  it("resolves its dependencies from the repository and serves every rule", async () => {
    // What the Node.js language host runs for `--policy-pack policies`: the module resolved from the pack's folder.
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDirectory] });
    pack = await startPack([runner, "127.0.0.1:1", "."]);
    const running = pack;
    const info = await call<Empty, analyzerProto.AnalyzerInfo>(
      running.client.getAnalyzerInfo.bind(running.client),
      new Empty(),
    );
    assert.deepEqual(
      info
        .getPoliciesList()
        .map((policy) => policy.getName())
        .sort(),
      rulePolicies()
        .map((policy) => policy.name)
        .sort(),
    );
    assert.equal(running.child.exitCode, null);
  });
});
