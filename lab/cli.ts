// `npm run lab -- --dir <folder> [--nps <n>] [--vpn <n>] [--seed article|healthy|<check id>]
// [--extension-version <version|none>]` (--help lists all)
// Starts the Graph emulator and lab Windows hosts on loopback, writes lab.json, Pulumi.lab.yaml and
// set-lab-secrets.sh, and runs until SIGINT or SIGTERM. Everything lives in <folder>: a restart keeps
// the tenant, the hosts, their ports and credentials, so a Pulumi stack pointed at the lab stays valid.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CommandHelp, parseCommandLine, runCommand, UsageError, usageText } from "../cli/commandLine";
import { cloudEndpoints, mfaClientAppId } from "../config/clouds";
import { fixes } from "../doctor/checks";
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
  currentExtensionVersion,
  healthyNpsHost,
  HostState,
  installExtension,
  rrasDefaultTimeoutSeconds,
  startIas,
  updateHostState,
  writeHostState,
} from "./windows/hostState";
import {
  labDownloadHost,
  labDownloadPath,
  labInstallerLocations,
  labInstallerShare,
  writeLabInstaller,
} from "./extensionInstaller";
import { LabWinrmHosts } from "./winrm";
import { applyCause, LabCause, labCauses } from "./causes";
import { NpsRadiusServer } from "./radius/npsRadius";
import { DialEvents, dialInLab, DialResult } from "./radius/vpnDial";
import { eventLine } from "./windows/eventLog";
import {
  LabDescription,
  LabHost,
  LabRole,
  LabUserAccount,
  labUserPrincipalName,
  nextSteps,
  pulumiLabYaml,
  readLabDescription,
  setSecretsScript,
  shellQuote,
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
  /** The NPS extension version seeded NPS hosts run ("none": no extension); default currentExtensionVersion. */
  extensionVersion?: string;
}

export interface RunningLab {
  /** The lab's folder (--dir). */
  dir: string;
  description: LabDescription;
  /** Where its Pulumi.lab.yaml went: the project folder, or the lab's own when another running lab owns that. */
  stackFileDir: string;
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

export const labCommand: CommandHelp = {
  name: "npm run lab",
  synopsis: ["--dir <folder> [options]", "dial <vpn host> <user> [--dir <folder>]"],
  description:
    "Starts a Graph emulator and lab Windows hosts on 127.0.0.1, writes <folder>/lab.json, " +
    "set-lab-secrets.sh and the repository's Pulumi.lab.yaml, and runs until Ctrl+C; a restart " +
    "with the same --dir keeps the lab as it was. `dial` signs a lab user in through a VPN host.",
  options: {
    dir: { type: "string", value: "<folder>", help: "the lab's state folder (required)" },
    nps: { type: "string", value: "<n>", default: "2", help: `NPS servers, 1 to ${maxHostsPerRole}` },
    vpn: { type: "string", value: "<n>", default: "1", help: `VPN servers, 0 to ${maxHostsPerRole}` },
    seed: {
      type: "string",
      value: "<seed>",
      help: "article (first start's default), healthy or a doctor check id",
    },
    "approval-seconds": {
      type: "string",
      value: "<s>",
      help: `seconds to approve MFA, 0 to 600 (default: the lab's, else ${defaultApprovalSeconds})`,
    },
    "extension-version": {
      type: "string",
      value: "<v>",
      help: `NPS extension the seeded NPS hosts run, a version or none (default ${currentExtensionVersion})`,
    },
  },
  examples: [
    "npm run lab -- --dir .lab --nps 2 --vpn 1",
    "npm run lab -- --dir .lab --seed healthy --extension-version 1.2.2677.2",
    "npm run lab -- dial vpn01 alice --dir .lab",
  ],
};

/** undefined: the person asked for --help. */
export function parseLabArguments(argv: string[]): Omit<LabOptions, "projectDir"> | undefined {
  const { help, values } = parseCommandLine(labCommand, argv);
  if (help) return undefined;
  const text = (name: string) => values[name] as string | undefined;
  const dir = text("dir");
  if (!dir) throw new UsageError("expected --dir <folder> for the lab's state, found nothing");
  const count = (name: "nps" | "vpn", minimum: number) => {
    const value = Number(text(name));
    if (!Number.isInteger(value) || value < minimum || value > maxHostsPerRole) {
      throw new UsageError(
        `expected --${name} to be a whole number from ${minimum} to ${maxHostsPerRole}, found ${JSON.stringify(text(name))}`,
      );
    }
    return value;
  };
  const seed = text("seed");
  if (seed !== undefined && !(labSeeds as readonly string[]).includes(seed)) {
    throw new UsageError(
      `expected --seed article, healthy or a doctor check id (${labCauses.join(", ")}), ` +
        `found ${JSON.stringify(seed)}`,
    );
  }
  const approval = text("approval-seconds");
  if (
    approval !== undefined &&
    !(Number.isInteger(Number(approval)) && Number(approval) >= 0 && Number(approval) <= 600)
  ) {
    throw new UsageError(
      `expected --approval-seconds to be a whole number from 0 to 600, found ${JSON.stringify(approval)}`,
    );
  }
  const extensionVersion = text("extension-version");
  if (
    extensionVersion !== undefined &&
    extensionVersion !== "none" &&
    !/^\d+(\.\d+){3}$/.test(extensionVersion)
  ) {
    throw new UsageError(
      `expected --extension-version to be a version such as ${currentExtensionVersion}, or none, found ${JSON.stringify(extensionVersion)}`,
    );
  }
  return {
    dir: path.resolve(dir),
    nps: count("nps", 1),
    vpn: count("vpn", 0),
    seed: seed as LabSeed | undefined,
    ...(approval === undefined ? {} : { approvalSeconds: Number(approval) }),
    ...(extensionVersion === undefined ? {} : { extensionVersion }),
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

/**
 * Seeds every host's state file, each NPS host running the extension version given ("none": without one);
 * for "healthy", also registers each NPS certificate in the tenant.
 */
async function seedHosts(
  hosts: LabHost[],
  seed: LabSeed,
  graph: GraphEmulator,
  extensionVersion: string,
): Promise<void> {
  const withExtension = (state: HostState) => {
    if (extensionVersion === currentExtensionVersion) return state;
    installExtension(state, extensionVersion === "none" ? null : extensionVersion);
    startIas(state);
    return state;
  };
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
      writeHostState(host.stateFile, withExtension(articleLabNpsHost(host.name, tenantId)));
      continue;
    }
    const state = withExtension(healthyNpsHost(host.name, tenantId));
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
  // A damaged lab.json stops a restart with its fix; with --seed, that fix, the lab starts over.
  const previous = options.seed === undefined ? readLabDescription(labFile) : readLabOrNothing(labFile);
  const stackFileDir = await stackFileFolder(options.projectDir, options.dir);
  const reseed = options.seed !== undefined || previous === undefined;
  if (options.extensionVersion !== undefined && !reseed)
    throw new UsageError(
      `expected --seed with --extension-version (the version is seeded), found a lab in ${options.dir} ` +
        "that keeps its hosts as they were left. Add --seed to start it over",
    );
  const extensionVersion = options.extensionVersion ?? currentExtensionVersion;
  // The current release's installer, served on the lab's file share and download host.
  const installersDir = path.join(options.dir, "installers");
  const installer = writeLabInstaller(installersDir, currentExtensionVersion);
  const seed: LabSeed = options.seed ?? (previous?.seed as LabSeed | undefined) ?? "article";
  const ca = loadOrCreateLabCa(options.dir);
  const graphStateFile = path.join(options.dir, "graph-tenant.json");

  const graph = await startGraphEmulator({
    ca,
    tenantId,
    seed: reseed ? (seed === "article" ? "article" : "healthy") : undefined,
    stateFile: graphStateFile,
    port: previous ? Number(new URL(previous.graph.authority).port) : 0,
    downloads: { host: labDownloadHost, pathPrefix: labDownloadPath, dir: installersDir },
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
      previous?.users ??
      labUserNames.map((name) => ({ name, upn: labUserPrincipalName(name), password: randomSecret() }));
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
        users.map((user) => syncedUser(user.upn, { withCodes: user.name === "bob" })),
      );
    if (reseed) {
      await seedHosts(labHosts, seed, graph, extensionVersion);
      if (isCause(seed)) await applyCause(seed, { hosts: labHosts, graph, tenantId, radius, users });
    } else if (stale.length > 0) await seedHosts(stale, seed, graph, extensionVersion);
    // The NPS hosts reach the cloud's login hosts at the lab's Entra (its port may be new).
    const loginRoute = {
      origin: graph.url,
      caFile: ca.certFile,
      hosts: Object.values(cloudEndpoints).map((cloud) => new URL(cloud.loginUrl).hostname),
    };
    const downloadRoute = { origin: graph.url, caFile: ca.certFile, hosts: [labDownloadHost] };
    for (const host of labHosts.filter((entry) => entry.role === "nps")) {
      updateHostState(host.stateFile, (state) => {
        state.network.loginRoute = loginRoute;
        state.network.downloadRoute = downloadRoute;
        state.network.shares = { ...state.network.shares, [labInstallerShare]: installersDir };
      });
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
      extensionInstaller: {
        version: installer.version,
        sha256: installer.sha256,
        file: installer.file,
        ...labInstallerLocations(),
      },
    };
    fs.writeFileSync(labFile, JSON.stringify(description, null, 2) + "\n", { mode: 0o600 });
    fs.writeFileSync(
      path.join(options.dir, "set-lab-secrets.sh"),
      setSecretsScript(description, stackFileDir),
      {
        mode: 0o700,
      },
    );
    fs.writeFileSync(path.join(stackFileDir, "Pulumi.lab.yaml"), mergeStackFile(stackFileDir, description));
    const running = hosts;
    return {
      dir: options.dir,
      description,
      stackFileDir,
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

/** A lab.json to start over from: a damaged one is as good as none. */
function readLabOrNothing(file: string): LabDescription | undefined {
  try {
    return readLabDescription(file);
  } catch {
    return undefined;
  }
}

/** The Graph endpoint a Pulumi.lab.yaml points at, if it is one the lab wrote. */
function stackFileGraphUrl(file: string): URL | undefined {
  try {
    const document = yaml.load(fs.readFileSync(file, "utf8")) as {
      config?: Record<string, { endpoint?: unknown } | undefined>;
    };
    const endpoint = document?.config?.["npsmfa:graph"]?.endpoint;
    return typeof endpoint === "string" ? new URL(endpoint) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether something accepts connections on a loopback port: a lab's Graph emulator that still runs. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Where this lab writes Pulumi.lab.yaml: the project folder, unless the file there belongs to a lab that is
 * still running (its Graph endpoint answers; rewriting the file would break that lab's stack); then the
 * lab's own folder. Checked before this lab starts, so its own earlier run never counts as running.
 */
async function stackFileFolder(projectDir: string, labDir: string): Promise<string> {
  const graphUrl = stackFileGraphUrl(path.join(projectDir, "Pulumi.lab.yaml"));
  if (graphUrl?.hostname !== "127.0.0.1" || path.resolve(projectDir) === path.resolve(labDir))
    return projectDir;
  return (await listening(Number(graphUrl.port))) ? labDir : projectDir;
}

/**
 * Pulumi.lab.yaml as the lab needs it. An existing file with the same endpoints is kept as it is, since
 * `pulumi config set --secret` stored the encrypted passwords and the stack's salt in it.
 */
function mergeStackFile(stackFileDir: string, description: LabDescription): string {
  const file = path.join(stackFileDir, "Pulumi.lab.yaml");
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

const dialHelp: CommandHelp = {
  name: "npm run lab",
  synopsis: ["dial <vpn host> <user> [--dir <folder>]"],
  description:
    "Signs a lab user (name or UPN, from lab.json) in through a lab VPN server, as a Windows " +
    "client would, and prints each RADIUS attempt, the outcome and the events it left.",
  options: { dir: { type: "string", value: "<folder>", default: ".lab", help: "the running lab's folder" } },
  examples: ["npm run lab -- dial vpn01 alice --dir .lab"],
};

/** What a dial prints: each attempt, the outcome, its events, and where to look next when it failed. */
export function dialLines(
  result: DialResult & { events: DialEvents },
  labDir: string,
  upn: string,
): string[] {
  return [
    ...result.attempts.map(
      (attempt) => `  ${attempt.server} (RADIUS timeout ${attempt.timeoutSeconds} s): ${attempt.outcome}`,
    ),
    `${result.vpnHost}: ${result.user} ${result.outcome}`,
    ...(result.events.length > 0
      ? ["Events it left:", ...result.events.map(({ host, event }) => `  ${eventLine(host, event)}`)]
      : []),
    ...(result.outcome === "connected"
      ? []
      : [`Why: npm run doctor -- --lab ${shellQuote(labDir)} --user ${upn}`]),
  ];
}

/** `npm run lab -- dial <vpn host> <user> [--dir <folder>]`: one VPN dial against a running lab. */
export async function dialCommand(argv: string[]): Promise<number> {
  const { help, values, positionals } = parseCommandLine(dialHelp, argv, true);
  if (help) {
    console.log(usageText(dialHelp));
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(`expected <vpn host> <user>, found ${JSON.stringify(positionals.join(" "))}`);
  }
  const labDir = path.resolve(values.dir as string);
  const labFile = path.join(labDir, "lab.json");
  const lab = readLabDescription(labFile);
  if (!lab)
    throw new Error(
      `expected a running lab's ${labFile}, found none. Start one: npm run lab -- --dir ${shellQuote(values.dir as string)}`,
    );
  const result = await dialInLab(lab, positionals[0], positionals[1], labDir);
  const upn = lab.users.find((entry) => entry.name === result.user)?.upn ?? result.user;
  for (const line of dialLines(result, values.dir as string, upn)) console.log(line);
  return result.outcome === "connected" ? 0 : 1;
}

/** The start-up text: where everything is, then the next commands for this lab's seed. */
function startUpLines(options: LabOptions, lab: RunningLab): string[] {
  const { description } = lab;
  const seed = description.seed;
  const cause = (labCauses as readonly string[]).includes(seed) ? (seed as LabCause) : undefined;
  const user = description.users[0];
  return [
    startedLine(options.dir, lab),
    `  Graph:  ${description.graph.url}`,
    ...description.hosts.map(
      (host) => `  ${host.role} ${host.name}: ${host.winrmUrl} (or ${host.winrmHttpUrl}, NTLM, encrypted)`,
    ),
    `  users: ${description.users.map((entry) => entry.upn).join(", ")} (passwords in lab.json)`,
    ...(description.extensionInstaller
      ? [
          `  NPS extension installer ${description.extensionInstaller.version}, sha256 ${description.extensionInstaller.sha256}:`,
          `    ${description.extensionInstaller.uncPath}`,
          `    ${description.extensionInstaller.url}`,
        ]
      : []),
    `  lab.json, set-lab-secrets.sh: ${options.dir}; Pulumi.lab.yaml: ${lab.stackFileDir}`,
    ...(lab.stackFileDir === options.projectDir
      ? []
      : [
          `  (the Pulumi.lab.yaml in ${options.projectDir} belongs to another lab that is running; it was left as it is)`,
        ]),
    nextSteps(options.dir, lab.stackFileDir, {
      vpn: description.hosts.find((host) => host.role === "vpn")?.name,
      user,
      userSeed: cause?.startsWith("user-") ?? false,
      // A seed the doctor's fix does not send to `pulumi up` is not the stack's to repair.
      pulumiRepairs: cause === undefined || fixes[cause]("").includes("pulumi up --refresh"),
    }),
  ];
}

async function main(): Promise<number | undefined> {
  if (process.argv[2] === "dial") return dialCommand(process.argv.slice(3));
  const parsed = parseLabArguments(process.argv.slice(2));
  if (!parsed) {
    console.log(usageText(labCommand));
    return 0;
  }
  // NPSMFA_LAB_PROJECT_DIR: where Pulumi.lab.yaml goes instead of this repo (tests run the CLI without touching it).
  const projectDir = path.resolve(process.env.NPSMFA_LAB_PROJECT_DIR || path.join(__dirname, ".."));
  const options = { ...parsed, projectDir };
  const lab = await startLab(options);
  for (const line of startUpLines(options, lab)) console.log(line);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the lab`);
    lab.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(`npm run lab: stopping failed: ${(error as Error).message}`);
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
  return undefined;
}

if (require.main === module)
  runCommand(process.argv[2] === "dial" ? "npm run lab -- dial" : "npm run lab", main);
