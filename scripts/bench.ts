// `npm run bench`: the speed figures the project cares about, measured against the lab on loopback,
// printed with the target each should meet. Figures, not tests: a slow machine prints slow numbers.
//   - WinRM: HTTP exchanges and milliseconds per command on a reused connection and shell.
//   - Graph: reading both MFA service principals one by one versus in one $batch.
//   - Config: validating a ten-server stack configuration.
//   - State: the size of the lab stack's state (2 NPS + 1 VPN) after its first `up`, and of its
//     largest serialized provider (`__provider`, stored twice per resource).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { mfaClientAppId, mfaConnectorAppId } from "../config/clouds";
import { parseStackConfig } from "../config/schema";
import { startGraphEmulator } from "../lab/graph";
import { loadOrCreateLabCa } from "../lab/tls";
import { LabWinrmHosts } from "../lab/winrm";
import { startLab } from "../lab/cli";
import { loadStackConfig } from "../config/load";
import { buildProgram } from "../program";
import { graphClientFor } from "../remote/graph/client";
import { emptyState, Engine, providerKey } from "../engine";
import { labStack } from "../lab/stackFiles";
import { WinrmClient } from "../remote/winrm";

interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The figure meets its target when it is at most this. */
  atMost: number;
}

const figures: Figure[] = [];
const record = (name: string, value: number, unit: string, atMost: number) =>
  figures.push({ name, value: Math.round(value * 100) / 100, unit, atMost });

async function benchWinrm(dir: string): Promise<void> {
  const ca = loadOrCreateLabCa(dir);
  const password = "bench-Passw0rd";
  const hosts = await LabWinrmHosts.start({
    ca,
    hosts: [{ name: "bench01", username: "bench", password, stateFile: path.join(dir, "bench01.json") }],
  });
  const host = hosts.host("bench01");
  const client = new WinrmClient({
    hostname: "bench01",
    endpoint: {
      url: host.url,
      auth: "ntlm",
      username: "bench",
      caFile: ca.certFile,
      operationTimeoutSeconds: 60,
    },
    password,
  });
  try {
    let started = performance.now();
    await client.runPowerShell("'warm-up'");
    record(
      "WinRM first command (NTLM handshake, shell, pwsh start)",
      performance.now() - started,
      "ms",
      5000,
    );
    const runs = 5;
    const exchangesBefore = client.exchanges;
    started = performance.now();
    for (let i = 0; i < runs; i++) await client.runPowerShell(`${i} * 2`);
    record("WinRM command on a reused shell", (performance.now() - started) / runs, "ms", 3000);
    record(
      "WinRM HTTP exchanges per command on a reused shell",
      (client.exchanges - exchangesBefore) / runs,
      "",
      4,
    );
  } finally {
    await client.close();
    await hosts.stop();
  }
}

async function benchGraph(dir: string): Promise<void> {
  const ca = loadOrCreateLabCa(dir);
  const emulator = await startGraphEmulator({ ca, seed: "article" });
  try {
    const { clientId } = await emulator.registerClient({ clientId: undefined, secret: "bench-secret" });
    const graph = graphClientFor({
      tenantId: emulator.tenantId,
      cloud: "public",
      graph: {
        endpoint: emulator.graphEndpoint,
        authorityHost: emulator.authorityHost,
        clientId,
        clientSecret: "bench-secret",
        caFile: emulator.caFile,
      },
    });
    const paths = [mfaClientAppId, mfaConnectorAppId].map(
      (appId) => `/servicePrincipals?$filter=appId eq '${appId}'&$select=id,appId,accountEnabled`,
    );
    await graph.getMany(paths); // sign-in, TLS session
    emulator.clearRequests();
    let started = performance.now();
    for (const request of paths) await graph.get(request);
    const oneByOne = performance.now() - started;
    const oneByOneRequests = emulator.requests().filter((r) => !r.inBatch).length;
    emulator.clearRequests();
    started = performance.now();
    await graph.getMany(paths);
    record("Graph: both MFA service principals, one by one", oneByOne, "ms", 2000);
    record("Graph: both MFA service principals in one $batch", performance.now() - started, "ms", 1000);
    record("Graph HTTP requests, one by one", oneByOneRequests, "", 2);
    record("Graph HTTP requests with $batch", emulator.requests().filter((r) => !r.inBatch).length, "", 1);
  } finally {
    await emulator.stop();
  }
}

function benchConfig(): void {
  const server = (role: string, i: number) => ({
    hostname: `${role}${i}.corp.example.com`,
    winrm: { url: `https://${role}${i}.corp.example.com:5986/wsman`, username: "svc", password: "pw" },
  });
  const nps = Array.from({ length: 5 }, (_, i) => server("nps", i));
  const vpn = Array.from({ length: 5 }, (_, i) => ({
    ...server("vpn", i),
    npsServers: nps.map((s) => s.hostname),
  }));
  const raw = {
    values: {
      tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      npsServers: JSON.stringify(nps),
      vpnServers: JSON.stringify(vpn),
    },
    secretKeys: ["npsServers", "vpnServers"] as ("npsServers" | "vpnServers")[],
  };
  const runs = 200;
  const started = performance.now();
  for (let i = 0; i < runs; i++) parseStackConfig(raw);
  record("Config: validate a ten-server stack", (performance.now() - started) / runs, "ms", 5);
}

async function benchState(dir: string): Promise<void> {
  const labDir = path.join(dir, "lab");
  const projectDir = path.join(dir, "project");
  fs.mkdirSync(projectDir);
  const lab = await startLab({ dir: labDir, projectDir, nps: 2, vpn: 1, seed: "article" });
  const engine = await Engine.start({
    stack: labStack(lab.description),
    program: () => buildProgram(loadStackConfig()),
  });
  try {
    const { state } = await engine.up(emptyState());
    const providers = state.resources.flatMap((resource) =>
      resource.custom ? [resource.inputs[providerKey], resource.outputs[providerKey]] : [],
    );
    const largest = Math.max(...providers.map((text) => Buffer.byteLength(String(text))));
    record(
      "State: the 2 NPS + 1 VPN lab stack after its first up",
      Buffer.byteLength(JSON.stringify(state)) / 1024,
      "KB",
      200,
    );
    record("State: largest serialized provider (__provider)", largest / 1024, "KB", 8);
  } finally {
    await engine.stop();
    await lab.stop();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-bench-"));
  try {
    benchConfig();
    await benchGraph(dir);
    await benchWinrm(dir);
    await benchState(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const width = Math.max(...figures.map((figure) => figure.name.length));
  for (const figure of figures) {
    const verdict = figure.value <= figure.atMost ? "meets" : "MISSES";
    const unit = figure.unit ? ` ${figure.unit}` : "";
    console.log(
      `${figure.name.padEnd(width)}  ${String(figure.value).padStart(8)}${unit}  (${verdict} target ≤ ${figure.atMost}${unit})`,
    );
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
