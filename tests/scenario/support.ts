// What the scenario tests share: the stack config a person gets from `npm run lab` (Pulumi.lab.yaml plus
// what set-lab-secrets.sh stores encrypted), a foreign key credential, and finders over engine state.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import forge from "node-forge";
import { configNamespace } from "../../config/keys";
import type { KeyCredential } from "../../lab/graph";
import type { LabDescription } from "../../lab/stackFiles";
import type { EngineState, StackSettings } from "../../engine";

interface WinrmEntry {
  winrm: Record<string, unknown>;
}

/**
 * Pulumi.lab.yaml's settings, plus each host's password and the Graph client secret at the paths
 * set-lab-secrets.sh sets them; a key holding one is encrypted, as `pulumi config set --secret --path` makes it.
 */
export function labStackSettings(projectDir: string, lab: LabDescription): StackSettings {
  const file = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.lab.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.config)) {
    config[key.slice(`${configNamespace}:`.length)] = value;
  }
  const servers = (list: "npsServers" | "vpnServers") => config[list] as WinrmEntry[];
  for (const [list, role] of [
    ["npsServers", "nps"],
    ["vpnServers", "vpn"],
  ] as const) {
    lab.hosts
      .filter((host) => host.role === role)
      .forEach((host, index) => (servers(list)[index].winrm.password = host.password));
  }
  (config.graph as Record<string, unknown>).clientSecret = lab.graph.clientSecret;
  return { config, secretKeys: ["npsServers", "vpnServers", "graph"] };
}

/** Every secret the lab handed out: none may appear in state or in a serialized provider. */
export function labSecrets(lab: LabDescription): string[] {
  return [...lab.hosts.map((host) => host.password), lab.graph.clientSecret];
}

/** A key credential some other tool put on the Client service principal (a real self-signed certificate). */
export function foreignKeyCredential(displayName: string): KeyCredential {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = keys.publicKey;
  certificate.serialNumber = `01${crypto.randomBytes(8).toString("hex")}`;
  certificate.validity.notBefore = new Date(Date.now() - 3_600_000);
  certificate.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  certificate.setSubject([{ shortName: "CN", value: displayName }]);
  certificate.setIssuer([{ shortName: "CN", value: displayName }]);
  certificate.sign(keys.privateKey, forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes();
  return {
    keyId: crypto.randomUUID(),
    type: "AsymmetricX509Cert",
    usage: "Verify",
    key: forge.util.encode64(der),
    displayName,
    customKeyIdentifier: null,
    startDateTime: certificate.validity.notBefore.toISOString().replace(/\.\d+Z$/, "Z"),
    endDateTime: certificate.validity.notAfter.toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

export function resourceNamed(state: EngineState, name: string) {
  const resource = state.resources.find((entry) => entry.name === name);
  if (!resource) throw new Error(`no resource named ${name} in the state`);
  return resource;
}
