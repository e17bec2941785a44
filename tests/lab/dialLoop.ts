// Dials a running lab's VPN host again and again from a process of its own, as users keep connecting
// while an operator runs `pulumi up`: one JSON line per dial on stdout. SIGTERM ends it after the dial
// in flight. Usage: node -r ts-node/register/transpile-only tests/lab/dialLoop.ts <lab dir> <vpn> <user>
import * as path from "node:path";
import { readLabDescription } from "../../lab/stackFiles";
import { dialInLab } from "../../lab/radius/vpnDial";

async function main(): Promise<void> {
  const [dir, vpnHost, user] = process.argv.slice(2);
  const lab = readLabDescription(path.join(dir, "lab.json"));
  if (!lab) throw new Error(`no lab.json in ${dir}`);
  let stopping = false;
  process.on("SIGTERM", () => (stopping = true));
  while (!stopping) {
    const started = new Date().toISOString();
    const result = await dialInLab(lab, vpnHost, user, dir);
    console.log(JSON.stringify({ started, ...result }));
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});
