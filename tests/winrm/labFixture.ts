// Lab hosts for the WinRM tests: a fresh lab CA in a temp folder, hosts started once per file, and
// clients built from the same endpoint settings the stack configuration gives providers.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import forge from "node-forge";
import * as os from "node:os";
import * as path from "node:path";
import { loadOrCreateLabCa, type LabCa, type PemPair } from "../../lab/tls";
import { LabWinrmHosts, type LabWinrmHost, type LabWinrmHostsOptions } from "../../lab/winrm";
import { WinrmClient, type WinrmClientOptions } from "../../remote/winrm";
import type { WinrmEndpointInputs } from "../../providers/resourceTypes";
import { findPwsh } from "../../scripts/powershell";

export const repoRoot = path.resolve(__dirname, "..", "..");

export interface WinrmLab {
  dir: string;
  ca: LabCa;
  hosts: LabWinrmHosts;
  clients: WinrmClient[];
  client(
    host: LabWinrmHost,
    endpoint?: Partial<WinrmEndpointInputs>,
    options?: Partial<WinrmClientOptions>,
  ): WinrmClient;
  closeClients(): Promise<void>;
  stop(): Promise<void>;
}

export interface LabAccount {
  name: string;
  username: string;
  password: string;
  auth: "ntlm" | "basic";
  maxEnvelopeSize?: number;
}

export async function startWinrmLab(
  accounts: LabAccount[],
  options: Partial<Pick<LabWinrmHostsOptions, "shimModule">> = {},
): Promise<WinrmLab> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-winrm-"));
  const ca = loadOrCreateLabCa(dir);
  const pwsh = findPwsh(repoRoot);
  if (!pwsh) throw new Error("PowerShell 7 not found: run npm ci (it restores pwsh through dotnet)");
  const hosts = await LabWinrmHosts.start({
    ca,
    pwsh,
    ...options,
    hosts: accounts.map((account) => ({
      name: account.name,
      username: account.username,
      password: account.password,
      stateFile: path.join(dir, `${account.name}.json`),
      maxEnvelopeSize: account.maxEnvelopeSize,
    })),
  });
  const clients: WinrmClient[] = [];
  const lab: WinrmLab = {
    dir,
    ca,
    hosts,
    clients,
    client(host, endpoint = {}, clientOptions = {}) {
      const account = accounts.find((candidate) => candidate.name === host.name);
      if (!account) throw new Error(`no account for ${host.name}`);
      const client = new WinrmClient({
        hostname: host.name,
        password: account.password,
        endpoint: {
          url: host.url,
          auth: account.auth,
          username: account.username,
          caFile: ca.certFile,
          operationTimeoutSeconds: 60,
          ...endpoint,
        },
        ...clientOptions,
      });
      clients.push(client);
      return client;
    },
    async closeClients() {
      await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
    },
    async stop() {
      await lab.closeClients();
      await hosts.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/** A TLS client certificate (clientAuth) signed by `ca`, written to `dir` as PEM files. */
export function issueClientCertificate(
  ca: PemPair,
  dir: string,
): { clientCertFile: string; clientKeyFile: string } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = "01" + crypto.randomBytes(15).toString("hex");
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  cert.setSubject([{ name: "commonName", value: "svc-npsmfa" }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  fs.mkdirSync(dir, { recursive: true });
  const clientCertFile = path.join(dir, "client.pem");
  const clientKeyFile = path.join(dir, "client.key");
  fs.writeFileSync(clientCertFile, forge.pki.certificateToPem(cert));
  fs.writeFileSync(clientKeyFile, keyPem, { mode: 0o600 });
  return { clientCertFile, clientKeyFile };
}
