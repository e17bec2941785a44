// The lab's certificate authority: one CA per lab folder, and server certificates for loopback
// listeners (Graph emulator, WinRM hosts), so clients verify TLS for real instead of turning it off.
// Keys come from Node's native crypto (fast); node-forge only assembles the X.509 structures.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import forge from "node-forge";

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface LabCa extends PemPair {
  /** Where the CA certificate is on disk, for NODE_EXTRA_CA_CERTS, caFile settings and pywinrm. */
  certFile: string;
}

function newKeyPair(): {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  keyPem: string;
} {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return {
    publicKey: forge.pki.publicKeyFromPem(
      publicKey.export({ type: "spki", format: "pem" }).toString(),
    ) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey,
    keyPem,
  };
}

function serialNumber(): string {
  // Positive, 16 random bytes, as RFC 5280 recommends.
  return "01" + crypto.randomBytes(15).toString("hex");
}

function validity(cert: forge.pki.Certificate, days: number): void {
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
}

/** Loads the CA kept in `dir`, or creates one there. */
export function loadOrCreateLabCa(dir: string): LabCa {
  const certFile = path.join(dir, "lab-ca.pem");
  const keyFile = path.join(dir, "lab-ca.key");
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    return { certFile, certPem: fs.readFileSync(certFile, "utf8"), keyPem: fs.readFileSync(keyFile, "utf8") };
  }
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, 3650);
  const subject = [{ name: "commonName", value: "npsmfa lab CA" }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(keyFile, keys.keyPem, { mode: 0o600 });
  fs.writeFileSync(certFile, certPem);
  return { certFile, certPem, keyPem: keys.keyPem };
}

/** A TLS server certificate signed by the lab CA, valid for the given DNS names and IP addresses. */
export function issueServerCertificate(ca: PemPair, names: string[], days = 365): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem) as forge.pki.rsa.PrivateKey;
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, days);
  cert.setSubject([{ name: "commonName", value: names[0] }]);
  cert.setIssuer(caCert.subject.attributes);
  const isIp = (name: string) => /^[\d.]+$/.test(name) || name.includes(":");
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: names.map((name) => (isIp(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** SHA-1 thumbprint in Windows' form (upper-case hex), as certificate pinning settings use it. */
export function thumbprintOf(certPem: string): string {
  return new crypto.X509Certificate(certPem).fingerprint.replace(/:/g, "");
}
