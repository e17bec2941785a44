// The default `pulumi-nodejs` provider as the engine keeps it in state: its inputs are every stack config
// key, full name (pkg/resource/deploy/target.go, GetPackageConfig: "For dynamic providers, we always pass
// the full configuration"), saved by each `up`, secrets encrypted by the stack's secrets manager. Refresh
// and destroy configure the provider from these (pkg/resource/deploy/providers/registry.go, Same: loads
// the provider resource's stored inputs), never from the current stack config.
import * as crypto from "node:crypto";
import { stackConfigText, StackSettings } from "./mockMonitor";

export interface StoredProvider {
  /** Full key to text; a secret's text is `secure:` + ciphertext, as a passphrase secrets manager keeps it. */
  inputs: Record<string, string>;
  /** Full keys whose value is a secret. */
  secretKeys: string[];
}

const securePrefix = "secure:";

/**
 * The stand-in for the stack's passphrase secrets manager. Its key comes from the stack's passphrase and
 * salt (pkg/secrets/passphrase: PBKDF2 over the passphrase, the salt kept in Pulumi.<stack>.yaml), so every
 * command on the same stack reads what an earlier one encrypted, whatever config changed in between; the
 * engine's stacks all use one passphrase, as the README's lab does (PULUMI_CONFIG_PASSPHRASE=lab).
 */
export class SecretsManager {
  private readonly key: Buffer;

  constructor(passphrase = "lab", salt = "npsmfa-test-stack") {
    this.key = crypto.pbkdf2Sync(passphrase, salt, 100_000, 32, "sha256");
  }

  store(stack: StackSettings): StoredProvider {
    const { config, secretKeys } = stackConfigText(stack);
    const inputs: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
      inputs[key] = secretKeys.has(key) ? securePrefix + this.encrypt(value) : value;
    }
    return { inputs, secretKeys: [...secretKeys].sort() };
  }

  /** The config a Configure call carries: secrets decrypted (the engine sends them as RPC secrets). */
  load(stored: StoredProvider): { config: Record<string, string>; secretKeys: Set<string> } {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(stored.inputs)) {
      config[key] = value.startsWith(securePrefix) ? this.decrypt(value.slice(securePrefix.length)) : value;
    }
    return { config, secretKeys: new Set(stored.secretKeys) };
  }

  private encrypt(text: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  private decrypt(ciphertext: string): string {
    const bytes = Buffer.from(ciphertext, "base64");
    const decipher = crypto.createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  }
}
