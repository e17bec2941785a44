// What the scenario tests share: a lab with the real program on the stack a person gets from `npm run lab`
// (Pulumi.lab.yaml plus what set-lab-secrets.sh stores encrypted), a foreign key credential, and finders
// over engine state.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import forge from "node-forge";
import { startProjectEngine } from "../../engine/projectEngine";
import { Engine, EngineState } from "../../engine";
import { LabOptions, RunningLab, startLab } from "../../lab/cli";
import type { KeyCredential } from "../../lab/graph";
import { LabDescription, labStack } from "../../lab/stackFiles";

/** A lab started as `npm run lab` starts it, in folders of its own, and an engine on the stack it writes. */
export interface ScenarioLab {
  labDir: string;
  /** Where the lab writes Pulumi.lab.yaml (never this repository). */
  projectDir: string;
  /** The running lab: a test that restarts it puts the new one here, so stopScenarioLab stops that one. */
  lab: RunningLab;
  engine: Engine;
}

/** The real program on the lab's stack (Pulumi.lab.yaml's settings and the secrets set-lab-secrets.sh stores). */
export async function startScenarioLab(
  prefix: string,
  options: Omit<LabOptions, "dir" | "projectDir">,
): Promise<ScenarioLab> {
  const labDir = fs.mkdtempSync(path.join(os.tmpdir(), `npsmfa-${prefix}-lab-`));
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), `npsmfa-${prefix}-project-`));
  let lab: RunningLab | undefined;
  try {
    lab = await startLab({ ...options, dir: labDir, projectDir });
    const engine = await startProjectEngine(labStack(lab.description));
    return { labDir, projectDir, lab, engine };
  } catch (error) {
    // The caller gets no scenario to stop: what started so far is stopped here.
    await lab?.stop();
    for (const dir of [labDir, projectDir]) fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function stopScenarioLab(scenario: ScenarioLab | undefined): Promise<void> {
  if (!scenario) return;
  await scenario.engine.stop();
  await scenario.lab.stop();
  for (const dir of [scenario.labDir, scenario.projectDir]) fs.rmSync(dir, { recursive: true, force: true });
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
