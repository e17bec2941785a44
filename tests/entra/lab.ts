// Test fixtures: a Graph emulator over real HTTPS with the lab CA, a signed-in operator, providers
// configured as the engine would configure them, and real NPS certificates.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GraphEmulator, GraphEmulatorOptions, startGraphEmulator } from "../../lab/graph";
import { issueServerCertificate, LabCa, loadOrCreateLabCa } from "../../lab/tls";
import { NpsCertificatePublicPart } from "../../providers/resourceTypes";

export const operatorSecret = "Lab-Operator-S3cret-91f";

export interface Lab {
  emulator: GraphEmulator;
  ca: LabCa;
  dir: string;
  clientId: string;
  /** The engine's config map as `configure` receives it. */
  config: { get(key: string): string | undefined };
  stop(): Promise<void>;
}

export function labDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-entra-"));
}

export function engineConfig(emulator: GraphEmulator, graph: Record<string, unknown>) {
  const values: Record<string, string> = {
    "npsmfa:tenantId": emulator.tenantId,
    "npsmfa:graph": JSON.stringify({
      endpoint: emulator.graphEndpoint,
      authorityHost: emulator.authorityHost,
      caFile: emulator.caFile,
      ...graph,
    }),
  };
  return { get: (key: string) => values[key] };
}

export async function startLab(
  options: Partial<GraphEmulatorOptions> & { roles?: string[]; dir?: string } = {},
): Promise<Lab> {
  const dir = options.dir ?? labDir();
  const ca = loadOrCreateLabCa(dir);
  const emulator = await startGraphEmulator({ ca, ...options });
  const { clientId } = await emulator.registerClient({ secret: operatorSecret, roles: options.roles });
  return {
    emulator,
    ca,
    dir,
    clientId,
    config: engineConfig(emulator, { clientId, clientSecret: operatorSecret }),
    stop: () => emulator.stop(),
  };
}

/** A real certificate as the NPS host would report it; `days` of validity from an hour ago. */
export function npsCertificate(ca: LabCa, host: string, days = 730): NpsCertificatePublicPart {
  const { certPem } = issueServerCertificate(ca, [host], days);
  const x509 = new crypto.X509Certificate(certPem);
  return {
    derBase64: x509.raw.toString("base64"),
    thumbprint: x509.fingerprint.replace(/:/g, ""),
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
  };
}

/** A key some other tool put on the Client SP (no npsmfa display name). */
export function foreignKey(ca: LabCa) {
  const certificate = npsCertificate(ca, "foreign.example.com");
  return {
    keyId: crypto.randomUUID(),
    type: "AsymmetricX509Cert",
    usage: "Verify",
    key: certificate.derBase64,
    displayName: "CN=Legacy MFA setup script",
    customKeyIdentifier: null,
    startDateTime: certificate.notBefore.replace(/\.000Z$/, "Z"),
    endDateTime: certificate.notAfter.replace(/\.000Z$/, "Z"),
  };
}
