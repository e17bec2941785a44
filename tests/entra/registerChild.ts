// A separate process registering one NPS certificate: it runs its own Graph emulator on the shared
// state file (as another operator's run would reach the same tenant), with its own injected faults,
// waits for "go" on stdin so the children race, then creates the credential through the provider and
// prints one JSON line: the status it reported, or the error it failed with.
import { mfaClientAppId } from "../../config/clouds";
import { GraphFault, startGraphEmulator } from "../../lab/graph";
import { loadOrCreateLabCa } from "../../lab/tls";
import { KeyConvergenceOptions, NpsCertificateCredentialProvider } from "../../providers/entra";
import { NpsCertificatePublicPart } from "../../providers/resourceTypes";
import { engineConfig, operatorSecret } from "./lab";

/** A fault as JSON carries it: its pathPattern as the source of a RegExp. */
export type SerializedFault = GraphFault extends infer Fault
  ? Fault extends GraphFault
    ? Omit<Fault, "pathPattern"> & { pathPattern?: string }
    : never
  : never;

/** What the parent sends: JSON in argv[2]. */
export interface RegisterChildArgs {
  dir: string;
  stateFile: string;
  clientId: string;
  host: string;
  certificate: NpsCertificatePublicPart;
  faults: SerializedFault[];
  convergence?: KeyConvergenceOptions;
}

export interface RegisterChildResult {
  host: string;
  status?: string;
  error?: string;
  patches: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as RegisterChildArgs;
  const emulator = await startGraphEmulator({ ca: loadOrCreateLabCa(args.dir), stateFile: args.stateFile });
  for (const fault of args.faults) {
    const { pathPattern, ...rest } = fault;
    emulator.injectFault({
      ...rest,
      ...(pathPattern ? { pathPattern: new RegExp(pathPattern) } : {}),
    } as GraphFault);
  }
  const provider = new NpsCertificateCredentialProvider(args.convergence);
  await provider.configure({
    config: engineConfig(emulator, { clientId: args.clientId, clientSecret: operatorSecret }),
  } as never);
  process.stdout.write("ready\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  const result: RegisterChildResult = { host: args.host, patches: 0 };
  try {
    const created = await provider.create({
      clientAppId: mfaClientAppId,
      npsHostname: args.host,
      certificate: args.certificate,
      renewalDays: 60,
    });
    result.status = created.outs.status;
  } catch (error) {
    result.error = (error as Error).message;
  }
  result.patches = emulator.requests().filter((request) => request.method === "PATCH").length;
  process.stdout.write(JSON.stringify(result) + "\n");
  await emulator.stop();
  // The Pulumi runtime keeps handles open outside an engine run; this process has said all it has to say.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
