// The full drift read of a stack, as `pulumi refresh` asks it of the dynamic-provider host, minus the gRPC
// hop and the host's start: every resource's `__provider` loaded as the host loads it
// (sdk/nodejs/cmd/dynamic-provider/index.ts, getProvider: requireFromString(...).handler(), configured once
// per provider text with the stack's config) and `read(id, outputs)` called for all resources at once, as
// the engine's parallel refresh does. What this measures is what our providers cost, which is what a user
// waits for once the engine has started.
import type * as pulumi from "@pulumi/pulumi";
import type { EngineState } from "../engine";

type LoadFromString = (code: string) => { handler(): pulumi.dynamic.ResourceProvider };
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the loader the dynamic-provider host uses
const requireFromString = require("require-from-string") as LoadFromString;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the host's Config for configure requests
const { Config } = require("@pulumi/pulumi/cmd/dynamic-provider/config");

const providerKey = "__provider";

/** Reads every resource in `state`; resolves with how many reads failed (each failure is printed). */
export async function readFleet(
  state: EngineState,
  config: Record<string, string>,
  project: string,
): Promise<{ reads: number; failures: string[] }> {
  const providers = new Map<string, Promise<pulumi.dynamic.ResourceProvider>>();
  const providerFor = (text: string) => {
    let provider = providers.get(text);
    if (!provider) {
      provider = (async () => {
        const loaded = requireFromString(text).handler();
        await loaded.configure?.({ config: new Config(config, project) });
        return loaded;
      })();
      providers.set(text, provider);
    }
    return provider;
  };
  const dynamic = state.resources.filter(
    (resource) => resource.custom && typeof resource.outputs[providerKey] === "string",
  );
  const failures: string[] = [];
  await Promise.all(
    dynamic.map(async (resource) => {
      try {
        const provider = await providerFor(resource.outputs[providerKey] as string);
        await provider.read?.(resource.id, resource.outputs);
      } catch (error) {
        failures.push(`${resource.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
  return { reads: dynamic.length, failures };
}
