// A separate process registering one NPS certificate: it runs its own Graph emulator on the shared
// state file (as another operator's run would reach the same tenant), waits for "go" on stdin so two
// children race, then creates the credential through the provider and prints one JSON line.
import { mfaClientAppId } from "../../config/clouds";
import { startGraphEmulator } from "../../lab/graph";
import { loadOrCreateLabCa } from "../../lab/tls";
import { NpsCertificateCredentialProvider } from "../../providers/entra";
import { engineConfig, operatorSecret } from "./lab";

async function main(): Promise<void> {
  const { dir, stateFile, clientId, host, certificate } = JSON.parse(process.argv[2]);
  const emulator = await startGraphEmulator({ ca: loadOrCreateLabCa(dir), stateFile });
  // Slow writes: both children read the collection before either write lands, so one write drops the other's key.
  emulator.injectFault({ kind: "latency", ms: 400, method: "PATCH", times: 1 });
  const provider = new NpsCertificateCredentialProvider({ settleMs: 1500 });
  await provider.configure({
    config: engineConfig(emulator, { clientId, clientSecret: operatorSecret }),
  } as never);
  process.stdout.write("ready\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  const result = await provider.create({
    clientAppId: mfaClientAppId,
    npsHostname: host,
    certificate,
    renewalDays: 60,
  });
  const patches = emulator.requests().filter((request) => request.method === "PATCH").length;
  process.stdout.write(JSON.stringify({ status: result.outs.status, patches }) + "\n");
  await emulator.stop();
  // The Pulumi runtime keeps handles open outside an engine run; this process has said all it has to say.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
