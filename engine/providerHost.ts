// Pulumi's own dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) as a child process, and
// typed calls of its ResourceProvider gRPC service, shaped as the engine sends them.
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import { startPlugin, stopPlugin } from "./plugin";
import { PropertyMap, toWire } from "./wire";

/**
 * The host's script as the CLI finds it: `pulumi-resource-pulumi-nodejs` runs `node -e
 * "require.resolve('@pulumi/pulumi/cmd/dynamic-provider')"` in the program's directory, so the host is
 * the project's own @pulumi/pulumi (sdk/nodejs/dist/pulumi-resource-pulumi-nodejs).
 */
function hostEntry(programDir: string): string {
  return createRequire(path.join(programDir, "noop.js")).resolve("@pulumi/pulumi/cmd/dynamic-provider");
}

export interface DiffResult {
  changes: "some" | "none" | "unknown";
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** DiffResponse.diffs; the 3.248 dynamic host never fills them, so expect []. */
  diffs: string[];
}

export interface ReadResult {
  /** "" when the provider reports the resource gone. */
  id: string;
  outputs: PropertyMap;
  /** Inputs the provider returned from read, if any: they replace the stored inputs. */
  inputs?: PropertyMap;
}

type Unary<Res> = (
  request: unknown,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => unknown;

/** One running host process. Configure once, then Check/Diff/Create/Read/Update/Delete. */
export class ProviderHost {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: providerRpc.ResourceProviderClient,
    private readonly stderr: () => string,
  ) {}

  /**
   * Starts a host in the project directory, as Pulumi starts plugins in the program's directory
   * (sdk/go/common/resource/plugin/provider_plugin.go, NewProvider: newPlugin(ctx, ctx.Pwd, ...)). The
   * argument is the engine's address: the host takes it but never dials it. Plain node, no ts-node:
   * the CLI's `pulumi-resource-pulumi-nodejs` runs `node <dynamic-provider>` (sdk/nodejs/dist).
   */
  static async start(projectDir: string): Promise<ProviderHost> {
    const { child, port, stderr } = await startPlugin(
      "dynamic-provider host",
      [hostEntry(projectDir), "127.0.0.1:1"],
      projectDir,
    );
    const client = new providerRpc.ResourceProviderClient(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    return new ProviderHost(child, client, stderr);
  }

  /** What the host wrote to stderr so far (provider errors are logged there). */
  get log(): string {
    return this.stderr();
  }

  async stop(): Promise<void> {
    this.client.close();
    await stopPlugin(this.child);
  }

  /**
   * As the engine configures the `pulumi-nodejs` default provider: every stack config key, full name
   * (`npsmfa:tenantId`), its text as stored; secret keys wrapped as RPC secrets, which the host unwraps.
   */
  async configure(config: Record<string, string>, secretKeys: ReadonlySet<string>): Promise<void> {
    const args: PropertyMap = {};
    for (const [key, value] of Object.entries(config)) {
      args[key] = secretKeys.has(key)
        ? { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value }
        : value;
    }
    const request = new providerProto.ConfigureRequest();
    request.setArgs(Struct.fromJavaScript(args as never));
    request.setAcceptsecrets(true);
    request.setAcceptresources(true);
    request.setSendsOldInputs(true);
    request.setSendsOldInputsToDelete(true);
    await this.call<providerProto.ConfigureResponse>(this.client.configure, request);
  }

  async check(
    urn: string,
    olds: PropertyMap,
    news: PropertyMap,
  ): Promise<{ inputs: PropertyMap; failures: string[] }> {
    const request = new providerProto.CheckRequest();
    request.setUrn(urn);
    request.setOlds(struct(olds));
    request.setNews(struct(news));
    const response = await this.call<providerProto.CheckResponse>(this.client.check, request);
    return {
      inputs: (response.getInputs()?.toJavaScript() ?? {}) as PropertyMap,
      failures: response
        .getFailuresList()
        .map((failure) => `${failure.getProperty()}: ${failure.getReason()}`),
    };
  }

  async diff(
    urn: string,
    id: string,
    oldOutputs: PropertyMap,
    oldInputs: PropertyMap,
    news: PropertyMap,
  ): Promise<DiffResult> {
    const request = new providerProto.DiffRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setOlds(struct(oldOutputs));
    request.setOldInputs(struct(oldInputs));
    request.setNews(struct(news));
    const response = await this.call<providerProto.DiffResponse>(this.client.diff, request);
    const kinds = providerProto.DiffResponse.DiffChanges;
    const changes = response.getChanges();
    return {
      changes: changes === kinds.DIFF_SOME ? "some" : changes === kinds.DIFF_NONE ? "none" : "unknown",
      replaces: response.getReplacesList(),
      deleteBeforeReplace: response.getDeletebeforereplace(),
      diffs: response.getDiffsList(),
    };
  }

  async create(urn: string, inputs: PropertyMap): Promise<{ id: string; outputs: PropertyMap }> {
    const request = new providerProto.CreateRequest();
    request.setUrn(urn);
    request.setProperties(struct(inputs));
    const response = await this.call<providerProto.CreateResponse>(this.client.create, request);
    return { id: response.getId(), outputs: (response.getProperties()?.toJavaScript() ?? {}) as PropertyMap };
  }

  async read(urn: string, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<ReadResult> {
    const request = new providerProto.ReadRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setProperties(struct(outputs));
    request.setInputs(struct(inputs));
    const response = await this.call<providerProto.ReadResponse>(this.client.read, request);
    const liveInputs = response.getInputs()?.toJavaScript() as PropertyMap | undefined;
    return {
      id: response.getId(),
      outputs: (response.getProperties()?.toJavaScript() ?? {}) as PropertyMap,
      ...(liveInputs && Object.keys(liveInputs).length > 0 ? { inputs: liveInputs } : {}),
    };
  }

  async update(
    urn: string,
    id: string,
    oldOutputs: PropertyMap,
    oldInputs: PropertyMap,
    news: PropertyMap,
  ): Promise<PropertyMap> {
    const request = new providerProto.UpdateRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setOlds(struct(oldOutputs));
    request.setOldInputs(struct(oldInputs));
    request.setNews(struct(news));
    const response = await this.call<providerProto.UpdateResponse>(this.client.update, request);
    return (response.getProperties()?.toJavaScript() ?? {}) as PropertyMap;
  }

  async delete(urn: string, id: string, outputs: PropertyMap, inputs: PropertyMap): Promise<void> {
    const request = new providerProto.DeleteRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setProperties(struct(outputs));
    request.setOldInputs(struct(inputs));
    await this.call<unknown>(this.client.delete, request);
  }

  // The generated client's methods are overloaded, which defeats inference: callers name the response type.
  private call<Res>(method: unknown, request: unknown): Promise<Res> {
    return new Promise((resolve, reject) =>
      (method as Unary<Res>).call(this.client, request, (error, response) =>
        error
          ? reject(new Error(`dynamic-provider host: ${error.details || error.message}`))
          : resolve(response),
      ),
    );
  }
}

function struct(properties: PropertyMap): Struct {
  return Struct.fromJavaScript(toWire(properties) as never);
}
