// `npm run lab -- --dir <folder> [--nps <n>] [--vpn <n>] [--seed article|healthy]`
// Starts the Graph emulator and lab Windows hosts on loopback, writes lab.json, Pulumi.lab.yaml and
// set-lab-secrets.sh, and runs until SIGINT or SIGTERM. Everything lives in <folder>: a restart keeps
// the tenant, the hosts, their ports and credentials, so a Pulumi stack pointed at the lab stays valid.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { cloudEndpoints, mfaClientAppId } from "../config/clouds";
import { desiredKeyCredential } from "../providers/entra/keyCredentials";
import {
  graphUserReadPermissions,
  graphWritePermission,
  startGraphEmulator,
  GraphEmulator,
  syncedUser,
} from "./graph";
import { loadOrCreateLabCa } from "./tls";
import {
  articleLabNpsHost,
  articleVpnHost,
  certificateDerBase64,
  healthyNpsHost,
  rrasDefaultTimeoutSeconds,
  updateHostState,
  writeHostState,
} from "./windows/hostState";
import { LabWinrmHosts } from "./winrm";
import { applyCause, LabCause, labCauses } from "./causes";
import { NpsRadiusServer } from "./radius/npsRadius";
import { dialInLab } from "./radius/vpnDial";
import {
  LabDescription,
  LabHost,
  LabRole,
  LabUserAccount,
  labUserPrincipalName,
  nextSteps,
  pulumiLabYaml,
  setSecretsScript,
} from "./stackFiles";

// article and healthy, and one doctor check's cause alone in an otherwise healthy lab (lab/causes.ts).
const labSeeds = ["article", "healthy", ...labCauses] as const;
type LabSeed = (typeof labSeeds)[number];

function isCause(seed: LabSeed): seed is LabCause {
  return (labCauses as readonly string[]).includes(seed);
}

export interface LabOptions {
  dir: string;
  nps: number;
  vpn: number;
  /** Undefined on a restart without --seed: keep the world as it was left. */
  seed?: LabSeed;
  /** Folder of the Pulumi project that gets Pulumi.lab.yaml. */
  projectDir: string;
  /** Seconds a user takes to approve MFA; default what the lab had, else 20. */
  approvalSeconds?: number;
}

export interface RunningLab {
  description: LabDescription;
  /** False when a restart kept the tenant and the hosts as they were left (no --seed, a lab.json found). */
  seeded: boolean;
  graph: GraphEmulator;
  hosts: LabWinrmHosts;
  /** Each NPS host's RADIUS side, by host name. */
  radius: Map<string, NpsRadiusServer>;
  /** Changes how long users take to approve MFA from now on (lab.json keeps the value it started with). */
  setApprovalSeconds(seconds: number): void;
  stop(): Promise<void>;
}

/** Default time a user takes to approve the MFA prompt on a phone. */
export const defaultApprovalSeconds = 20;
const labUserNames = ["alice", "bob"];

/** Two-digit host names (nps01 ... nps99); the warm PowerShell pool keeps even 99 + 99 within a few GiB. */
const maxHostsPerRole = 99;
const hostName = (role: LabRole, index: number) => `${role}${String(index + 1).padStart(2, "0")}`;

const tenantId = "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40";
const labUsername = "labadmin";

export function parseLabArguments(argv: string[]): Omit<LabOptions, "projectDir"> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: "string" },
      nps: { type: "string", default: "2" },
      vpn: { type: "string", default: "1" },
      seed: { type: "string" },
      "approval-seconds": { type: "string" },
    },
    strict: true,
  });
  if (!values.dir) throw new Error("npm run lab: expected --dir <folder> for the lab's state, found nothing");
  const count = (name: "nps" | "vpn", text: string, minimum: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < minimum || value > maxHostsPerRole) {
      throw new Error(
        `npm run lab: expected --${name} to be a whole number from ${minimum} to ${maxHostsPerRole}, found ${JSON.stringify(text)}`,
      );
    }
    return value;
  };
  if (values.seed !== undefined && !(labSeeds as readonly string[]).includes(values.seed)) {
    throw new Error(
      `npm run lab: expected --seed article, healthy or a doctor check id (${labCauses.join(", ")}), ` +
        `found ${JSON.stringify(values.seed)}`,
    );
  }
  const approval = values["approval-seconds"];
  if (
    approval !== undefined &&
    !(Number.isInteger(Number(approval)) && Number(approval) >= 0 && Number(approval) <= 600)
  ) {
    throw new Error(
      `npm run lab: expected --approval-seconds to be a whole number from 0 to 600, found ${JSON.stringify(approval)}`,
    );
  }
  return {
    dir: path.resolve(values.dir),
    nps: count("nps", values.nps, 1),
    vpn: count("vpn", values.vpn, 0),
    seed: values.seed as LabSeed | undefined,
    ...(approval === undefined ? {} : { approvalSeconds: Number(approval) }),
  };
}

function randomSecret(): string {
  // Letters and digits only: easy to paste, and still 128 bits.
  return crypto
    .randomBytes(24)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 24);
}

function readPrevious(file: string): LabDescription | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as LabDescription) : undefined;
}

/** Seeds every host's state file; for "healthy", also registers each NPS certificate in the tenant. */
async function seedHosts(hosts: LabHost[], seed: LabSeed, graph: GraphEmulator): Promise<void> {
  const npsNames = hosts.filter((host) => host.role === "nps").map((host) => host.name);
  const keys: ReturnType<typeof desiredKeyCredential>[] = [];
  for (const host of hosts) {
    if (host.role === "vpn") {
      writeHostState(
        host.stateFile,
        articleVpnHost(host.name, npsNames, seed === "article" ? rrasDefaultTimeoutSeconds : 90),
      );
      continue;
    }
    if (seed === "article") {
      writeHostState(host.stateFile, articleLabNpsHost(host.name, tenantId));
      continue;
    }
    const state = healthyNpsHost(host.name, tenantId);
    writeHostState(host.stateFile, state);
    const certificate = state.certificates[0];
    keys.push(
      desiredKeyCredential(host.name, {
        derBase64: certificateDerBase64(certificate),
        thumbprint: certificate.thumbprint,
        notBefore: certificate.notBefore,
        notAfter: certificate.notAfter,
      }),
    );
  }
  if (keys.length > 0) {
    await graph.changeServicePrincipal(mfaClientAppId, (sp) => ({ ...sp, keyCredentials: keys }));
  }
}

export async function startLab(options: LabOptions): Promise<RunningLab> {
  fs.mkdirSync(path.join(options.dir, "hosts"), { recursive: true });
  const labFile = path.join(options.dir, "lab.json");
  const previous = readPrevious(labFile);
  const reseed = options.seed !== undefined || previous === undefined;
  const seed: LabSeed = options.seed ?? (previous?.seed as LabSeed | undefined) ?? "article";
  const ca = loadOrCreateLabCa(options.dir);
  const graphStateFile = path.join(options.dir, "graph-tenant.json");

  const graph = await startGraphEmulator({
    ca,
    tenantId,
    seed: reseed ? (seed === "article" ? "article" : "healthy") : undefined,
    stateFile: graphStateFile,
    port: previous ? Number(new URL(previous.graph.authority).port) : 0,
  });
  let hosts: LabWinrmHosts | undefined;
  const radius = new Map<string, NpsRadiusServer>();
  const stopRadius = () => Promise.all([...radius.values()].map((server) => server.stop()));
  try {
    const graphClient = previous?.graph ?? { clientId: crypto.randomUUID(), clientSecret: randomSecret() };
    // Application.ReadWrite.All for the stack; User.Read.All and UserAuthenticationMethod.Read.All for `doctor --user`.
    await graph.registerClient({
      clientId: graphClient.clientId,
      secret: graphClient.clientSecret,
      roles: [graphWritePermission, ...graphUserReadPermissions],
    });

    const wanted: { name: string; role: LabRole }[] = [
      ...Array.from({ length: options.nps }, (_, i) => ({ name: hostName("nps", i), role: "nps" as const })),
      ...Array.from({ length: options.vpn }, (_, i) => ({ name: hostName("vpn", i), role: "vpn" as const })),
    ];
    const planned = wanted.map(({ name, role }) => {
      const before = previous?.hosts.find((host) => host.name === name);
      return {
        name,
        role,
        username: before?.username ?? labUsername,
        password: before?.password ?? randomSecret(),
        stateFile: path.join(options.dir, "hosts", `${name}.json`),
        port: before ? Number(new URL(before.winrmUrl).port) : 0,
        httpPort: before?.winrmHttpUrl ? Number(new URL(before.winrmHttpUrl).port) : 0,
      };
    });
    hosts = await LabWinrmHosts.start({ ca, hosts: planned });
    const users: LabUserAccount[] =
      previous?.users ?? labUserNames.map((name) => ({ name, password: randomSecret() }));
    let approvalSeconds = options.approvalSeconds ?? previous?.mfaApprovalSeconds ?? defaultApprovalSeconds;
    for (const host of planned.filter((entry) => entry.role === "nps")) {
      const before = previous?.hosts.find((entry) => entry.name === host.name)?.radius;
      radius.set(
        host.name,
        await NpsRadiusServer.start({
          hostname: host.name,
          stateFile: host.stateFile,
          port: before?.port ?? 0,
          secret: before?.secret ?? randomSecret(),
          users: () => users,
          methodsOf: (name) =>
            graph
              .users()
              .find(
                (user) => user.userPrincipalName.toLowerCase() === labUserPrincipalName(name).toLowerCase(),
              )
              ?.authenticationMethods.map((method) => method.type) ?? [],
          approvalMs: () => approvalSeconds * 1000,
          login: { origin: graph.url, caPem: ca.certPem },
        }),
      );
    }
    const labHosts: LabHost[] = planned.map((host) => {
      const server = radius.get(host.name);
      return {
        name: host.name,
        role: host.role,
        winrmUrl: hosts!.host(host.name).url,
        winrmHttpUrl: hosts!.host(host.name).httpUrl,
        username: host.username,
        password: host.password,
        stateFile: host.stateFile,
        ...(server ? { radius: { port: server.port, secret: server.secret } } : {}),
      };
    });
    const stale = labHosts.filter((host) => !fs.existsSync(host.stateFile));
    // The people who dial, as Entra knows them: synced from the lab's AD DS, with the Authenticator registered;
    // bob's also gives him codes (a TOTP method), which number matching turns into a TOTP prompt.
    if (reseed || graph.users().length === 0)
      await graph.changeUsers(() =>
        users.map((user) => syncedUser(labUserPrincipalName(user.name), { withCodes: user.name === "bob" })),
      );
    if (reseed) {
      await seedHosts(labHosts, seed, graph);
      if (isCause(seed)) await applyCause(seed, { hosts: labHosts, graph, tenantId, radius, users });
    } else if (stale.length > 0) await seedHosts(stale, seed, graph);
    // The NPS hosts reach the cloud's login hosts at the lab's Entra (its port may be new).
    const loginRoute = {
      origin: graph.url,
      caFile: ca.certFile,
      hosts: Object.values(cloudEndpoints).map((cloud) => new URL(cloud.loginUrl).hostname),
    };
    for (const host of labHosts.filter((entry) => entry.role === "nps")) {
      updateHostState(host.stateFile, (state) => (state.network.loginRoute = loginRoute));
    }

    const description: LabDescription = {
      tenantId,
      caFile: ca.certFile,
      graph: { url: graph.graphEndpoint, authority: graph.authorityHost, ...graphClient },
      hosts: labHosts,
      seed,
      graphStateFile,
      users,
      mfaApprovalSeconds: approvalSeconds,
    };
    fs.writeFileSync(labFile, JSON.stringify(description, null, 2) + "\n", { mode: 0o600 });
    fs.writeFileSync(
      path.join(options.dir, "set-lab-secrets.sh"),
      setSecretsScript(description, options.projectDir),
      {
        mode: 0o700,
      },
    );
    fs.writeFileSync(
      path.join(options.projectDir, "Pulumi.lab.yaml"),
      mergeStackFile(options.projectDir, description),
    );
    const running = hosts;
    return {
      description,
      seeded: reseed,
      graph,
      hosts: running,
      radius,
      setApprovalSeconds(seconds: number) {
        approvalSeconds = seconds;
      },
      async stop() {
        await Promise.all([running.stop(), graph.stop(), stopRadius()]);
      },
    };
  } catch (error) {
    await Promise.all([hosts?.stop(), graph.stop(), stopRadius()]);
    throw error;
  }
}

/**
 * Pulumi.lab.yaml as the lab needs it. An existing file with the same endpoints is kept as it is, since
 * `pulumi config set --secret` stored the encrypted passwords and the stack's salt in it.
 */
function mergeStackFile(projectDir: string, description: LabDescription): string {
  const file = path.join(projectDir, "Pulumi.lab.yaml");
  const fresh = pulumiLabYaml(description);
  if (!fs.existsSync(file)) return fresh;
  const existing = fs.readFileSync(file, "utf8");
  const endpoints = [description.graph.url, ...description.hosts.map((host) => host.winrmUrl)];
  return endpoints.every((url) => existing.includes(url)) ? existing : fresh;
}

/** The lab's first words: a seed says what it started as; a restart says nothing was put back. */
export function startedLine(dir: string, lab: Pick<RunningLab, "seeded" | "description">): string {
  return lab.seeded
    ? `Lab started in ${dir} (seed: ${lab.description.seed})`
    : `Lab started again in ${dir}: the tenant and the hosts are as they were left ` +
        `(first seeded: ${lab.description.seed}; --seed starts over)`;
}

/** `npm run lab -- dial <vpn host> <user> [--dir <folder>]`: one VPN dial against a running lab. */
export async function dialCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { dir: { type: "string", default: ".lab" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 2) {
    throw new Error(
      `npm run lab -- dial: expected <vpn host> <user>, found ${JSON.stringify(positionals.join(" "))}`,
    );
  }
  const labFile = path.resolve(values.dir, "lab.json");
  const lab = readPrevious(labFile);
  if (!lab)
    throw new Error(
      `npm run lab -- dial: expected a running lab's ${labFile}, found none (start one with --dir)`,
    );
  const result = await dialInLab(lab, positionals[0], positionals[1]);
  for (const attempt of result.attempts) {
    console.log(`  ${attempt.server} (timeout ${attempt.timeoutSeconds} s): ${attempt.outcome}`);
  }
  console.log(`${result.vpnHost}: ${result.user} ${result.outcome}`);
  return result.outcome === "connected" ? 0 : 1;
}

async function main(): Promise<void> {
  if (process.argv[2] === "dial") {
    process.exitCode = await dialCommand(process.argv.slice(3));
    return;
  }
  // NPSMFA_LAB_PROJECT_DIR: where Pulumi.lab.yaml goes instead of this repo (tests run the CLI without touching it).
  const projectDir = path.resolve(process.env.NPSMFA_LAB_PROJECT_DIR || path.join(__dirname, ".."));
  const options = { ...parseLabArguments(process.argv.slice(2)), projectDir };
  const lab = await startLab(options);
  console.log(startedLine(options.dir, lab));
  console.log(`  Graph:  ${lab.description.graph.url}`);
  for (const host of lab.description.hosts) {
    console.log(`  ${host.role} ${host.name}: ${host.winrmUrl} (or ${host.winrmHttpUrl}, NTLM, encrypted)`);
  }
  console.log(`  lab.json, set-lab-secrets.sh: ${options.dir}; Pulumi.lab.yaml: ${options.projectDir}`);
  console.log(nextSteps(options.dir, options.projectDir));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the lab`);
    lab.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(`lab: stopping failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // `npm run lab` runs us under `sh -c`: npm passes SIGTERM to that shell, which dies without passing it on.
  // Orphaned, we would keep the ports and the lab's state busy, so a changed parent stops the lab too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop("parent exited");
  }, 500).unref();
}

if (require.main === module) {
  main().catch((error) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
