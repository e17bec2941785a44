// Runs pywinrm (Debian's python3-winrm under /usr/bin/python3) through pywinrmClient.py: one JSON request
// in, one outcome per script out. Shared by the comparison test and the wire-capture test.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface PywinrmOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface PywinrmRequest {
  url: string;
  auth: "ntlm" | "basic";
  username: string;
  password: string;
  caFile: string;
  /** "always" seals every message over plain http (MS-WSMV 2.2.9.1); "auto" by default. */
  messageEncryption?: "always" | "auto";
  scripts: string[];
}

// Debian's OpenSSL 3 keeps MD4, which NTLM needs, in its legacy provider: pywinrm (ntlm-auth) uses hashlib.
const legacyOpensslConfig = [
  "openssl_conf = openssl_init",
  "[openssl_init]",
  "providers = provider_sect",
  "[provider_sect]",
  "default = default_sect",
  "legacy = legacy_sect",
  "[default_sect]",
  "activate = 1",
  "[legacy_sect]",
  "activate = 1",
  "",
].join("\n");

/** Writes the OpenSSL configuration that enables the legacy provider for pywinrm's process only. */
export function writeLegacyOpensslConfig(dir: string): string {
  const file = path.join(dir, "openssl-legacy.cnf");
  fs.writeFileSync(file, legacyOpensslConfig);
  return file;
}

export function runPywinrm(request: PywinrmRequest, opensslConfig: string): Promise<PywinrmOutcome[]> {
  return runPywinrmScript(path.join(__dirname, "pywinrmClient.py"), request, opensslConfig);
}

/** Runs a pywinrm script under Debian's python3: one JSON request on stdin, one JSON answer on stdout. */
export function runPywinrmScript<T>(script: string, request: unknown, opensslConfig: string): Promise<T> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the lab host answering pywinrm lives in this very process.
    const child = spawn("/usr/bin/python3", [script], {
      env: { ...process.env, OPENSSL_CONF: opensslConfig },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0)
        reject(new Error(`pywinrm (${path.basename(script)}) exited ${code}: ${stderr.slice(-1500)}`));
      else resolve(JSON.parse(stdout) as T);
    });
    child.stdin.end(JSON.stringify(request));
  });
}
