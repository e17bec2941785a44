// What the lab writes for a person to use it: lab.json (every endpoint), Pulumi.lab.yaml (every
// non-secret setting) and set-lab-secrets.sh (the secrets, set encrypted through the Pulumi CLI).
// Pure functions from the lab's description to file text; lab/cli.ts does the writing.
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { z } from "zod";
import type { CloudName } from "../config/clouds";
import { configNamespace } from "../config/keys";

export type LabRole = "nps" | "vpn";

export interface LabHost {
  name: string;
  role: LabRole;
  winrmUrl: string;
  /** The host's plain-HTTP listener: NTLM only, every message encrypted (Windows' default listener). */
  winrmHttpUrl: string;
  username: string;
  password: string;
  stateFile: string;
  /** NPS hosts: where IAS answers RADIUS on 127.0.0.1, and the shared secret RADIUS clients use with it. */
  radius?: { port: number; secret: string };
}

/** A person who dials the VPN: an account of the lab's directory (what NPS checks the password against). */
export interface LabUserAccount {
  name: string;
  /** The name `--user` and Graph know: labUserPrincipalName(name). */
  upn: string;
  password: string;
}

/** A lab user's UPN on-premises and in Entra (`npm run doctor -- --user <upn>`); example.com is reserved. */
export function labUserPrincipalName(name: string): string {
  return `${name}@lab.example.com`;
}

/** The shape of <dir>/lab.json, as the README and the lab issue document it. */
export interface LabDescription {
  tenantId: string;
  caFile: string;
  graph: { url: string; authority: string; clientId: string; clientSecret: string };
  hosts: LabHost[];
  /** The article's broken state or a healthy one. */
  seed: string;
  /** Where the Graph emulator keeps the tenant. */
  graphStateFile: string;
  users: LabUserAccount[];
  /** How long a user takes to approve the MFA prompt on the phone. */
  mfaApprovalSeconds: number;
  /**
   * The current NPS extension release's lab installer: its version and SHA-256 (upper-case hex, as
   * Get-FileHash shows it), the file here, and where NPS hosts reach it (a UNC path, an HTTPS URL).
   * Absent in a lab.json written before the lab had one.
   */
  extensionInstaller?: LabExtensionInstaller;
}

export interface LabExtensionInstaller {
  version: string;
  sha256: string;
  file: string;
  uncPath: string;
  url: string;
}

const labFileSchema = z.object({
  tenantId: z.string(),
  caFile: z.string(),
  graph: z.object({ url: z.string(), authority: z.string(), clientId: z.string(), clientSecret: z.string() }),
  hosts: z.array(
    z.object({
      name: z.string(),
      role: z.enum(["nps", "vpn"]),
      winrmUrl: z.string(),
      winrmHttpUrl: z.string(),
      username: z.string(),
      password: z.string(),
      stateFile: z.string(),
      radius: z.object({ port: z.number(), secret: z.string() }).optional(),
    }),
  ),
  seed: z.string(),
  graphStateFile: z.string(),
  // Labs written before UPNs were recorded: the UPN follows from the name.
  users: z.array(
    z
      .object({ name: z.string(), upn: z.string().optional(), password: z.string() })
      .transform((user) => ({ ...user, upn: user.upn ?? labUserPrincipalName(user.name) })),
  ),
  mfaApprovalSeconds: z.number(),
  extensionInstaller: z
    .object({
      version: z.string(),
      sha256: z.string(),
      file: z.string(),
      uncPath: z.string(),
      url: z.string(),
    })
    .optional(),
});

/**
 * A lab's lab.json, or undefined when there is none. A damaged or foreign file is named with what is wrong
 * and the fix, never handed on to fail later with an internal TypeError.
 */
export function readLabDescription(file: string): LabDescription | undefined {
  if (!fs.existsSync(file)) return undefined;
  const damaged = (found: string) =>
    new Error(
      `${file}: expected the lab description that npm run lab writes, found ${found}. Start that lab over ` +
        `(it rewrites the file): npm run lab -- --dir ${shellQuote(path.dirname(file))} --seed article`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    throw damaged("text that is not JSON");
  }
  const result = labFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? `"${issue.path.join(".")}"` : "the top level";
    throw damaged(`JSON without a valid ${where} (${issue.message})`);
  }
  return result.data;
}

export const labStackName = "lab";

/** How long the lab's stack checks IAS after each restart (a real estate keeps the default, 10 s). */
export const labIasHealthCheckSeconds = 3;

/** The cloud the lab's tenant lives in: what lab hosts are seeded for and what the doctor is told. */
export const labCloud: CloudName = "public";

/**
 * The lab's stack settings, keyed `npsmfa:<key>`. Without secrets (Pulumi.lab.yaml) unless asked for them:
 * the doctor reads the lab straight from lab.json, with no Pulumi CLI to decrypt the stack.
 */
export function labStackSettings(lab: LabDescription, withSecrets = false): Record<string, unknown> {
  const winrm = (host: LabHost) => ({
    url: host.winrmUrl,
    auth: "ntlm",
    username: host.username,
    ...(withSecrets ? { password: host.password } : {}),
    caFile: lab.caFile,
  });
  const nps = lab.hosts.filter((host) => host.role === "nps");
  return {
    "npsmfa:tenantId": lab.tenantId,
    "npsmfa:cloud": labCloud,
    "npsmfa:graph": {
      endpoint: lab.graph.url,
      authorityHost: lab.graph.authority,
      clientId: lab.graph.clientId,
      ...(withSecrets ? { clientSecret: lab.graph.clientSecret } : {}),
      caFile: lab.caFile,
    },
    // The lab's IAS starts at once and its faults show at start: a short window keeps its rollouts quick.
    "npsmfa:iasHealthCheckSeconds": labIasHealthCheckSeconds,
    "npsmfa:npsServers": nps.map((host) => ({ hostname: host.name, winrm: winrm(host) })),
    "npsmfa:vpnServers": lab.hosts
      .filter((host) => host.role === "vpn")
      .map((host) => ({
        hostname: host.name,
        winrm: winrm(host),
        npsServers: nps.map((server) => server.name),
        radiusTimeoutSeconds: 60,
      })),
  };
}

/** The config keys whose values hold a lab secret: what set-lab-secrets.sh stores encrypted. */
export const labSecretKeys = ["npsServers", "vpnServers", "graph"];

/**
 * The lab's stack as an engine takes it (short keys, as `pulumi config` names them): Pulumi.lab.yaml's
 * settings plus what set-lab-secrets.sh stores, each key holding a secret marked encrypted.
 */
export function labStack(lab: LabDescription): { config: Record<string, unknown>; secretKeys: string[] } {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(labStackSettings(lab, true)))
    config[key.slice(configNamespace.length + 1)] = value;
  return { config, secretKeys: labSecretKeys };
}

/** Pulumi.lab.yaml: no secret in it; those go through set-lab-secrets.sh. */
export function pulumiLabYaml(lab: LabDescription): string {
  const config = labStackSettings(lab);
  return (
    "# Written by `npm run lab`: the lab's endpoints. Secrets are not here: run set-lab-secrets.sh.\n" +
    yaml.dump({ config }, { lineWidth: 120, noRefs: true })
  );
}

/** Single-quoted for POSIX sh, whatever the value holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function setSecretsScript(lab: LabDescription, projectDir: string): string {
  const set = (path: string, value: string) =>
    `pulumi config set --secret -s ${labStackName} --path ${shellQuote(path)} ${shellQuote(value)}`;
  const listIndex = (role: LabRole, name: string) =>
    lab.hosts.filter((host) => host.role === role).findIndex((host) => host.name === name);
  const lines = [
    "#!/bin/sh",
    "# Written by `npm run lab`: stores the lab's passwords and client secret encrypted in Pulumi.lab.yaml.",
    "set -eu",
    `cd ${shellQuote(projectDir)}`,
    ...lab.hosts.map((host) =>
      set(
        `${host.role === "nps" ? "npsServers" : "vpnServers"}[${listIndex(host.role, host.name)}].winrm.password`,
        host.password,
      ),
    ),
    set("graph.clientSecret", lab.graph.clientSecret),
  ];
  return lines.join("\n") + "\n";
}

/** What the start-up text's next commands depend on besides the folders. */
export interface NextStepsContext {
  /** A VPN host and a user to dial with; no dial line without a VPN host. */
  vpn?: string;
  user?: LabUserAccount;
  /** The seed breaks a user (the doctor then needs `--user`). */
  userSeed?: boolean;
  /** False for a seed the stack cannot repair (a user without an MFA method): no `pulumi up` is offered. */
  pulumiRepairs?: boolean;
}

export function nextSteps(labDir: string, projectDir: string, context: NextStepsContext = {}): string {
  const dir = shellQuote(labDir);
  const user = context.user;
  const doctorUser = context.userSeed && user ? ` --user ${user.upn}` : "";
  const pulumi = [
    `  cd ${shellQuote(projectDir)}`,
    "  pulumi login --local                  # once",
    "  export PULUMI_CONFIG_PASSPHRASE=lab   # the local backend encrypts secrets with a passphrase",
    `  pulumi stack select --create ${labStackName}`,
    `  sh ${shellQuote(`${labDir}/set-lab-secrets.sh`)}`,
    `  pulumi preview --refresh -s ${labStackName}   # a new stack: every resource it will create`,
    `  pulumi up --refresh -s ${labStackName}        # repair what the seed broke`,
    `  pulumi preview --refresh --expect-no-changes -s ${labStackName}`,
  ];
  return [
    "The lab is running. In another terminal, from the repository:",
    ...(context.vpn && user
      ? [`  npm run lab -- dial ${context.vpn} ${user.name} --dir ${dir}   # a VPN dial as ${user.upn}`]
      : []),
    `  npm run doctor -- --lab ${dir}${doctorUser}   # why sign-in fails, read-only`,
    ...(context.pulumiRepairs === false
      ? ["The stack cannot repair this seed: the doctor's FIX column says what a person does."]
      : ["With the Pulumi CLI:", ...pulumi]),
    "Stop the lab with Ctrl+C; its state stays in the folder for the next start.",
  ].join("\n");
}
