// A test-only dynamic resource for the engine tests: one value under a key of a JSON file. Its
// `digest` output is computed on the provider host from the value and a secret the provider reads from
// the stack's config in `configure`, so it proves both that real outputs flow and that secrets arrive
// through configure rather than through the serialized provider.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";

/** The stack config key (short form, under `npsmfa:`) holding the secret the provider mixes into digests. */
export const digestSecretKey = "engineTestDigestSecret";

export interface FileValueArgs {
  filePath: pulumi.Input<string>;
  key: pulumi.Input<string>;
  value: pulumi.Input<string>;
}

interface FileValueInputs {
  filePath: string;
  key: string;
  value: string;
}

interface FileValueOutputs extends FileValueInputs {
  digest: string;
}

/** sha256 of `<secret>:<value>`, hex: what the provider reports as `digest`. */
export function fileValueDigest(secret: string, value: string): string {
  return createHash("sha256").update(`${secret}:${value}`).digest("hex");
}

class FileValueProvider implements pulumi.dynamic.ResourceProvider<FileValueInputs, FileValueOutputs> {
  private secret?: string;

  async configure(request: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.secret = request.config.require(`npsmfa:${digestSecretKey}`);
  }

  async check(
    _olds: FileValueInputs,
    news: FileValueInputs,
  ): Promise<pulumi.dynamic.CheckResult<FileValueInputs>> {
    const failures = (["filePath", "key", "value"] as const)
      .filter((property) => typeof news[property] !== "string")
      .map((property) => ({
        property,
        reason: `${property} must be a string, found ${typeof news[property]}`,
      }));
    return { inputs: news, failures };
  }

  async diff(_id: string, olds: FileValueOutputs, news: FileValueInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = (["filePath", "key"] as const).filter((property) => olds[property] !== news[property]);
    return { changes: replaces.length > 0 || olds.value !== news.value, replaces };
  }

  async create(inputs: FileValueInputs): Promise<pulumi.dynamic.CreateResult<FileValueOutputs>> {
    this.write(inputs.filePath, inputs.key, inputs.value);
    return { id: `${inputs.filePath}#${inputs.key}`, outs: this.outputs(inputs) };
  }

  async read(id: string, props?: FileValueOutputs): Promise<pulumi.dynamic.ReadResult<FileValueOutputs>> {
    const value = props && this.entries(props.filePath)[props.key];
    if (!props || value === undefined) return {};
    return { id, props: this.outputs({ filePath: props.filePath, key: props.key, value }) };
  }

  async update(
    _id: string,
    _olds: FileValueOutputs,
    news: FileValueInputs,
  ): Promise<pulumi.dynamic.UpdateResult<FileValueOutputs>> {
    this.write(news.filePath, news.key, news.value);
    return { outs: this.outputs(news) };
  }

  async delete(_id: string, props: FileValueOutputs): Promise<void> {
    const entries = this.entries(props.filePath);
    delete entries[props.key];
    fs.writeFileSync(props.filePath, JSON.stringify(entries));
  }

  private outputs(inputs: FileValueInputs): FileValueOutputs {
    if (this.secret === undefined) throw new Error("FileValue: configure was never called, no digest secret");
    return { ...inputs, digest: fileValueDigest(this.secret, inputs.value) };
  }

  // Synchronous file access: the host runs resources concurrently and several share one file.
  private write(filePath: string, key: string, value: string): void {
    fs.writeFileSync(filePath, JSON.stringify({ ...this.entries(filePath), [key]: value }));
  }

  private entries(filePath: string): Record<string, string> {
    return fs.existsSync(filePath)
      ? (JSON.parse(fs.readFileSync(filePath, "utf8")) as Record<string, string>)
      : {};
  }
}

const fileValueProvider = new FileValueProvider();

export class FileValue extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;
  declare readonly digest: pulumi.Output<string>;

  constructor(name: string, args: FileValueArgs, opts?: pulumi.CustomResourceOptions) {
    super(fileValueProvider, name, { ...args, digest: undefined }, opts, "enginetest", "FileValue");
  }
}

/** Two values in one file, the second holding the first's digest: an output computed on the host. */
export class FileValuePair extends pulumi.ComponentResource {
  readonly source: FileValue;
  readonly derived: FileValue;

  constructor(
    name: string,
    args: { filePath: string; value: string },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("enginetest:index:FileValuePair", name, {}, opts);
    this.source = new FileValue(
      `${name}-source`,
      { filePath: args.filePath, key: "source", value: args.value },
      { parent: this },
    );
    this.derived = new FileValue(
      `${name}-derived`,
      { filePath: args.filePath, key: "derived", value: this.source.digest },
      { parent: this },
    );
    this.registerOutputs({ digest: this.derived.digest });
  }
}
