// A CrossGuard policy pack as `pulumi preview|up --policy-pack <dir> --policy-pack-config <file>` runs it:
// the pack's own Node.js policy runtime (`@pulumi/pulumi/cmd/run-policy-pack`, resolved from the pack's
// folder, as the Node.js language host does for `runtime: nodejs` packs) serves the Analyzer gRPC service.
// The engine configures it from the config file, sends it every resource's inputs before the resource's
// step (Analyze) and the whole stack once the steps are done (AnalyzeStack), and fails the command on a
// mandatory violation (pkg/resource/deploy/step_generator.go, GenerateSteps: analyzers before any step;
// deployment_executor.go: AnalyzeStack at the end; Pulumi's developer docs, "Policy API by example").
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { startPlugin, stopPlugin } from "./plugin";
import { PropertyMap, toWire } from "./wire";

/** One `--policy-pack` and its `--policy-pack-config`. */
export interface PolicyPackOption {
  /** The pack's folder (PulumiPolicy.yaml), relative to the current directory as on the command line. */
  dir: string;
  /** JSON: rule name (or `all`) to an enforcement level, or to `{ enforcementLevel?, ...settings }`. */
  configFile?: string;
}

export interface PolicyDiagnostic {
  pack: string;
  policy: string;
  level: "mandatory" | "advisory";
  /** Empty for a stack rule that names no resource. */
  urn: string;
  message: string;
}

/** What a rule sees of one resource. */
export interface AnalyzedResource {
  urn: string;
  type: string;
  name: string;
  properties: PropertyMap;
  parent?: string;
  dependencies: string[];
}

const { EnforcementLevel } = analyzerProto;
const levels: Record<string, analyzerProto.EnforcementLevel> = {
  advisory: EnforcementLevel.ADVISORY,
  mandatory: EnforcementLevel.MANDATORY,
  disabled: EnforcementLevel.DISABLED,
};

/** The running analyzer of one pack. */
/** The fields an Analyze request and a stack's resource share: what the resource is, its inputs, no options. */
function withResource<T extends analyzerProto.AnalyzeRequest | analyzerProto.AnalyzerResource>(
  message: T,
  resource: AnalyzedResource,
): T {
  message.setType(resource.type);
  message.setName(resource.name);
  message.setUrn(resource.urn);
  message.setProperties(struct(resource.properties));
  message.setOptions(new analyzerProto.AnalyzerResourceOptions());
  return message;
}

export class PolicyAnalyzer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: analyzerRpc.AnalyzerClient,
    readonly pack: string,
  ) {}

  static async start(option: PolicyPackOption): Promise<PolicyAnalyzer> {
    const dir = path.resolve(option.dir);
    if (!fs.existsSync(path.join(dir, "PulumiPolicy.yaml"))) {
      throw new Error(
        `--policy-pack ${option.dir}: expected a policy pack folder with PulumiPolicy.yaml, found none`,
      );
    }
    const runner = createRequire(path.join(dir, "noop.js")).resolve("@pulumi/pulumi/cmd/run-policy-pack");
    const { child, port } = await startPlugin(`policy pack ${option.dir}`, [runner, "127.0.0.1:1", "."], dir);
    const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const info = await call<analyzerProto.AnalyzerInfo>(client, client.getAnalyzerInfo, new Empty());
      const analyzer = new PolicyAnalyzer(child, client, `${info.getName()}@v${info.getVersion()}`);
      const request = configureRequest(info, option.configFile ? readConfig(option.configFile) : {}, option);
      await call(client, client.configure, request);
      return analyzer;
    } catch (error) {
      client.close();
      await stopPlugin(child);
      throw error;
    }
  }

  async analyze(resource: AnalyzedResource): Promise<PolicyDiagnostic[]> {
    const request = withResource(new analyzerProto.AnalyzeRequest(), resource);
    const response = await call<analyzerProto.AnalyzeResponse>(this.client, this.client.analyze, request);
    return this.diagnostics(response, resource.urn);
  }

  async analyzeStack(resources: AnalyzedResource[]): Promise<PolicyDiagnostic[]> {
    const request = new analyzerProto.AnalyzeStackRequest();
    request.setResourcesList(
      resources.map((resource) => {
        const entry = withResource(new analyzerProto.AnalyzerResource(), resource);
        if (resource.parent) entry.setParent(resource.parent);
        entry.setDependenciesList(resource.dependencies);
        return entry;
      }),
    );
    const response = await call<analyzerProto.AnalyzeResponse>(
      this.client,
      this.client.analyzeStack,
      request,
    );
    return this.diagnostics(response, "");
  }

  async stop(): Promise<void> {
    this.client.close();
    await stopPlugin(this.child);
  }

  private diagnostics(response: analyzerProto.AnalyzeResponse, urn: string): PolicyDiagnostic[] {
    return response.getDiagnosticsList().map((diagnostic) => ({
      pack: this.pack,
      policy: diagnostic.getPolicyname(),
      level: diagnostic.getEnforcementlevel() === EnforcementLevel.MANDATORY ? "mandatory" : "advisory",
      urn: diagnostic.getUrn() || urn,
      message: diagnostic.getMessage(),
    }));
  }
}

/** As the CLI lists a violation: the pack, the level, the rule, the resource, then the rule's message. */
export function describeDiagnostic(diagnostic: PolicyDiagnostic): string {
  const where = diagnostic.urn ? ` (${diagnostic.urn})` : "";
  return `${diagnostic.pack}: [${diagnostic.level}] ${diagnostic.policy}${where}\n    ${diagnostic.message}`;
}

type PolicyConfigFile = Record<string, string | ({ enforcementLevel?: string } & Record<string, unknown>)>;

function readConfig(file: string): PolicyConfigFile {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyConfigFile;
  } catch (error) {
    throw new Error(`--policy-pack-config ${file}: expected a JSON object, ${(error as Error).message}`);
  }
}

/**
 * Every policy of the pack gets its level (the file's, else `all`'s, else its own default) and its settings
 * (an empty Struct when it has none), as the CLI configures an analyzer; a key that names no policy is an
 * error, as the CLI's validation of the config file makes it.
 */
function configureRequest(
  info: analyzerProto.AnalyzerInfo,
  config: PolicyConfigFile,
  option: PolicyPackOption,
): analyzerProto.ConfigureAnalyzerRequest {
  const policies = info.getPoliciesList();
  const names = policies.map((policy) => policy.getName());
  const unknown = Object.keys(config).filter((key) => key !== "all" && !names.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `--policy-pack-config ${option.configFile}: ${unknown.join(", ")} is not a policy of ${info.getName()} ` +
        `(its policies: ${names.join(", ")})`,
    );
  }
  const levelOf = (value: PolicyConfigFile[string] | undefined) =>
    typeof value === "string" ? value : value?.enforcementLevel;
  const request = new analyzerProto.ConfigureAnalyzerRequest();
  for (const policy of policies) {
    const entry = config[policy.getName()];
    const level = levelOf(entry) ?? levelOf(config.all);
    if (level !== undefined && !(level in levels)) {
      throw new Error(
        `--policy-pack-config ${option.configFile}: ${policy.getName()}: expected an enforcement level ` +
          `(advisory, mandatory, disabled), found ${JSON.stringify(level)}`,
      );
    }
    const settings = typeof entry === "object" ? { ...entry } : {};
    delete settings.enforcementLevel;
    const policyConfig = new analyzerProto.PolicyConfig();
    policyConfig.setEnforcementlevel(level === undefined ? policy.getEnforcementlevel() : levels[level]);
    policyConfig.setProperties(Struct.fromJavaScript(settings as never));
    request.getPolicyconfigMap().set(policy.getName(), policyConfig);
  }
  return request;
}

function struct(properties: PropertyMap): Struct {
  return Struct.fromJavaScript(toWire(properties) as never);
}

type Unary<Res> = (
  request: unknown,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => unknown;

function call<Res>(client: grpc.Client, method: unknown, request: unknown): Promise<Res> {
  return new Promise((resolve, reject) =>
    (method as Unary<Res>).call(client, request, (error, response) =>
      error ? reject(new Error(`policy pack: ${error.details || error.message}`)) : resolve(response),
    ),
  );
}

/** Every `--policy-pack` of one command: started together, asked together, their advisories kept. */
export class PolicyPacks {
  readonly advisories: PolicyDiagnostic[] = [];
  readonly violations: PolicyDiagnostic[] = [];

  private constructor(private readonly analyzers: PolicyAnalyzer[]) {}

  static async start(options: PolicyPackOption[] = []): Promise<PolicyPacks> {
    const started = await Promise.allSettled(options.map((option) => PolicyAnalyzer.start(option)));
    const analyzers = started.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
    const failed = started.find((outcome) => outcome.status === "rejected");
    if (failed) {
      await Promise.all(analyzers.map((analyzer) => analyzer.stop()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new PolicyPacks(analyzers);
  }

  /** Analyze: the resource's new inputs, before its step. Returns its mandatory violations. */
  async resource(resource: AnalyzedResource): Promise<PolicyDiagnostic[]> {
    return this.keep(await Promise.all(this.analyzers.map((analyzer) => analyzer.analyze(resource))));
  }

  /** AnalyzeStack: every resource as the command leaves it. Returns the mandatory violations. */
  async stack(resources: AnalyzedResource[]): Promise<PolicyDiagnostic[]> {
    if (this.analyzers.length === 0) return [];
    return this.keep(await Promise.all(this.analyzers.map((analyzer) => analyzer.analyzeStack(resources))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.analyzers.map((analyzer) => analyzer.stop()));
  }

  private keep(found: PolicyDiagnostic[][]): PolicyDiagnostic[] {
    const diagnostics = found.flat();
    const mandatory = diagnostics.filter((diagnostic) => diagnostic.level === "mandatory");
    this.advisories.push(...diagnostics.filter((diagnostic) => diagnostic.level === "advisory"));
    this.violations.push(...mandatory);
    return mandatory;
  }
}

/** The error a command fails with on mandatory violations, each with its rule's name and message. */
export function violationsMessage(operation: string, violations: PolicyDiagnostic[]): string {
  return `${operation} failed: mandatory policy violations:\n${violations.map(describeDiagnostic).join("\n")}`;
}
