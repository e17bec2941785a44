// Pulumi's own Node.js program runner (@pulumi/pulumi cmd/run), run on a program in a child process
// against a minimal resource monitor and engine served here over gRPC, as the CLI's language host would
// start it. It records what the runner logs, so a test can compare our engine's words with the runner's.
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as engineService from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import * as resourceService from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";

export interface RunnerResult {
  /** Each message the runner logged at severity ERROR, as the CLI receives it. */
  errors: string[];
  exitCode: number | null;
  stderr: string;
}

type Callback = (error: grpc.ServiceError | null, response?: unknown) => void;
type Call<T> = { request: T };

/** Runs the program in `projectDir` (its package.json `main`) with the given stack config under the runner. */
export async function runUnderPulumiRunner(
  projectDir: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
): Promise<RunnerResult> {
  const errors: string[] = [];
  let rootUrn = "";
  const server = new grpc.Server();
  server.addService(
    resourceService.ResourceMonitorService as unknown as grpc.ServiceDefinition,
    {
      supportsFeature: (_call: unknown, callback: Callback) =>
        callback(null, new resourceProto.SupportsFeatureResponse().setHassupport(false)),
      registerResource: (call: Call<resourceProto.RegisterResourceRequest>, callback: Callback) => {
        const urn = `urn:pulumi:lab::npsmfa::${call.request.getType()}::${call.request.getName()}`;
        callback(null, new resourceProto.RegisterResourceResponse().setUrn(urn));
      },
      registerResourceOutputs: (_call: unknown, callback: Callback) => callback(null, new Empty()),
    } as unknown as grpc.UntypedServiceImplementation,
  );
  server.addService(
    engineService.EngineService as unknown as grpc.ServiceDefinition,
    {
      log: (call: Call<engineProto.LogRequest>, callback: Callback) => {
        if (call.request.getSeverity() === engineProto.LogSeverity.ERROR)
          errors.push(call.request.getMessage());
        callback(null, new Empty());
      },
      getRootResource: (_call: unknown, callback: Callback) =>
        callback(null, new engineProto.GetRootResourceResponse().setUrn(rootUrn)),
      setRootResource: (call: Call<engineProto.SetRootResourceRequest>, callback: Callback) => {
        rootUrn = call.request.getUrn();
        callback(null, new engineProto.SetRootResourceResponse());
      },
    } as unknown as grpc.UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  try {
    const runner = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run");
    const address = `127.0.0.1:${port}`;
    return await new Promise<RunnerResult>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [runner, `--monitor=${address}`, `--engine=${address}`, "--project=npsmfa", "--stack=lab", "."],
        {
          cwd: projectDir,
          env: {
            ...process.env,
            PULUMI_CONFIG: JSON.stringify(config),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
            // As the CLI starts a TypeScript project (runtime option typescript: true).
            PULUMI_NODEJS_TYPESCRIPT: "true",
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (exitCode) => resolve({ errors, exitCode, stderr }));
    });
  } finally {
    server.forceShutdown();
  }
}
