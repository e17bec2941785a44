// What Pulumi serializes into state (`__provider`) for every dynamic resource of this package: a few KB
// that, inside the dynamic-provider host, load the real provider from the installed package. So state
// stays small, and a fix to read, diff or delete reaches resources created before it, at the next command:
// the host runs the `__provider` text stored in state for read and delete (sdk/nodejs/cmd/dynamic-provider
// /index.ts, getProvider), and with a fat provider that text is the code of the day the resource was
// last updated.
//
// Everything the functions below reference is serialized with them: only `kind`, `implementationsModule`,
// `require` (the serializer never captures it: runtime/closure/parseFunction.ts) and `process`. Comments
// inside `implementation` would be copied into every resource's state: they stay out here.
//
// State written by an older version holds that version's serialized provider (a large one from before the
// seam, or an older seam), and the host runs it for every read and delete; our diffs look only at settings,
// so a `same` step would keep it forever (the engine keeps a same resource's outputs). So `diff` reports a
// change when the stored provider is not this one: the next `preview --refresh` shows an update, and the
// next `up` re-applies the same settings and stores this provider (the host's update returns it with the
// outputs: cmd/dynamic-provider/index.ts, resultIncludingProvider).
//
// The host has no TypeScript loader (cmd/dynamic-provider/index.ts registers none): the package's compiled
// JavaScript is required by module name, resolved as the project's own code resolves it. Pulumi starts the
// host in the program's directory (provider_plugin.go: newPlugin(ctx, ctx.Pwd, ...)), which is the project
// or, with a `main:` in Pulumi.yaml, a folder inside it: Node's lookup walks up to the project's
// node_modules either way, and inside this repository the package's own name resolves to itself
// (package.json `exports`, Node's self-reference).
import type * as pulumi from "@pulumi/pulumi";
import type { DynamicTypeName } from "./resourceTypes";

/**
 * The installed package's compiled providers (package.json `exports`, "./providers"). Exported apart from
 * its declaration: the functions below then read the local constant, and Pulumi serializes its value,
 * where they would read it off this module's `exports`, which from node_modules serializes as a `require`
 * of this very file (runtime/closure/createClosure.ts, captureModuleAsync: a module in node_modules is
 * captured as a reference).
 */
const implementationsModule = "npsmfa/providers";
export { implementationsModule };

/** The serialized stand-in for the provider of one resource type. */
export function providerSeam(kind: DynamicTypeName): pulumi.dynamic.ResourceProvider {
  const implementation = (): pulumi.dynamic.ResourceProvider => {
    const programDir = process.cwd();
    let loaded: { providerFor(kind: DynamicTypeName): pulumi.dynamic.ResourceProvider };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time, in the host
      const projectRequire = require("node:module").createRequire(`${programDir}/`);
      loaded = projectRequire(implementationsModule);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const packageName = implementationsModule.split("/")[0];
      throw new Error(
        `${packageName} ${kind} provider: cannot load ${implementationsModule} from the Pulumi project in ${programDir} ` +
          `(${reason}). Add the package to the project's dependencies and install them (npm install ${packageName}); ` +
          `in a clone of the ${packageName} repository, build it first (npm run build).`,
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
      const result = provider.diff ? await provider.diff(id, olds, news) : {};
      return result.changes || olds.__provider === news.__provider ? result : { ...result, changes: true };
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
