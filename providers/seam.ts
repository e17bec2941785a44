// What Pulumi serializes into state (`__provider`) for every dynamic resource of this project: a few KB
// that, inside the dynamic-provider host, load the real provider from the project on disk. So state stays
// small, and a fix to read, diff or delete reaches resources created before it, at the next command:
// the host runs the `__provider` text stored in state for read and delete (sdk/nodejs/cmd/dynamic-provider
// /index.ts, getProvider), and with a fat provider that text is the code of the day the resource was
// last updated.
//
// Everything the functions below reference is serialized with them: only `kind`, `require` (the
// serializer never captures it: runtime/closure/parseFunction.ts) and `process`.
import type * as pulumi from "@pulumi/pulumi";
import type { DynamicTypeName } from "./resourceTypes";

/** Where the implementations live, relative to the project directory. */
const implementationsModule = "providers/implementations";

// swcNote: the host's ts-node transpiles with swc when the project has @swc/core. Every command starts a
// new host, and TypeScript's own transpiler spent about 3 s of CPU loading the providers, swc about 1.5 s.
// Only in the host: the program's process keeps TypeScript's output, whose closures Pulumi serializes
// (swc's import helpers made that serialization hang). Comments inside `implementation` would be
// serialized into every resource's state.

/** The serialized stand-in for the provider of one resource type. */
export function providerSeam(kind: DynamicTypeName): pulumi.dynamic.ResourceProvider {
  const implementation = (): pulumi.dynamic.ResourceProvider => {
    // Pulumi starts the host in the program's directory (provider_plugin.go: newPlugin(ctx, ctx.Pwd, ...)),
    // and the host registers no TypeScript loader of its own (cmd/dynamic-provider/index.ts), unlike the
    // program's `cmd/run`: register ts-node, transpile only (the program was type-checked already).
    // With swc when the project has it (see swcNote above: kept out of this body, which is serialized).
    const projectDir = process.cwd();
    const typescriptLoaded = Boolean((require as NodeJS.Require).extensions[".ts"]);
    if (!typescriptLoaded) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time, in the host
      const tsNode = require(require.resolve("ts-node", { paths: [projectDir] }));
      let swc = true;
      try {
        require.resolve("@swc/core", { paths: [projectDir] });
      } catch {
        swc = false;
      }
      tsNode.register({ transpileOnly: true, swc, project: `${projectDir}/tsconfig.json` });
    }
    let loaded: { providerFor(kind: DynamicTypeName): pulumi.dynamic.ResourceProvider };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time, in the host
      loaded = require(`${projectDir}/${implementationsModule}`);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `npsmfa ${kind} provider: cannot load ${implementationsModule} from ${projectDir} (${reason}). ` +
          "Run pulumi from the npsmfa project directory, with its node_modules installed (npm ci).",
      );
    }
    // providerFor keeps one instance per type in the loaded module, so configure's settings stay for later calls.
    return loaded.providerFor(kind);
  };
  return {
    async configure(req) {
      await implementation().configure?.(req);
    },
    async check(olds, news) {
      const provider = implementation();
      return provider.check ? provider.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const provider = implementation();
      return provider.diff ? provider.diff(id, olds, news) : {};
    },
    async create(inputs) {
      return implementation().create(inputs);
    },
    async read(id, props) {
      const provider = implementation();
      return provider.read ? provider.read(id, props) : { id, props };
    },
    async update(id, olds, news) {
      const provider = implementation();
      return provider.update ? provider.update(id, olds, news) : {};
    },
    async delete(id, props) {
      await implementation().delete?.(id, props);
    },
  };
}
