// `npm run doctor -- [--stack <name> | --lab <dir>] [--user <upn>] [--since <ISO time | hours>] [--json]`
// Why does MFA sign-in for VPN fail right now? Reads the tenant and every server (read-only), prints the
// findings with the first failing one first, exits 0 when nothing fails, 1 when something does, 2 on bad input.
// With `--watch --listen <host:port> [--interval <seconds>]` it runs as a Prometheus exporter (watch.ts).
import { parseArgs } from "node:util";
import type { StackConfig } from "../config/schema";
import { graphClientFor } from "../remote/graph/client";
import { winrmRunner } from "../remote/windows/winrmRunner";
import { labStackConfig, pulumiStackConfig } from "./config";
import { diagnose } from "./diagnose";
import { gatherFacts } from "./gather";
import { doctorReport, renderTable } from "./report";
import { parseListen, startMonitor } from "./watch";

const usage =
  "usage: npm run doctor -- (--stack <name> | --lab <dir>) [--user <upn>] [--since <ISO time | hours ago>] [--json]\n" +
  "       npm run doctor -- (--stack <name> | --lab <dir>) --watch --listen <host:port> [--interval <seconds, default 300>]";

function sinceFrom(text: string | undefined, now: Date): Date {
  if (text === undefined) return new Date(now.getTime() - 24 * 3_600_000);
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(now.getTime() - Number(text) * 3_600_000);
  const time = Date.parse(text);
  if (Number.isNaN(time))
    throw new Error(`--since: expected an ISO time or a number of hours, found ${JSON.stringify(text)}`);
  return new Date(time);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      lab: { type: "string" },
      since: { type: "string" },
      user: { type: "string" },
      json: { type: "boolean", default: false },
      watch: { type: "boolean", default: false },
      listen: { type: "string" },
      interval: { type: "string" },
    },
  });
  if ((values.stack === undefined) === (values.lab === undefined))
    throw new Error(`expected one of --stack or --lab. ${usage}`);
  const now = new Date();
  const since = sinceFrom(values.since, now);
  if (values.user !== undefined && !/^[^@\s]+@[^@\s]+$/.test(values.user))
    throw new Error(
      `--user: expected a user principal name such as alice@contoso.com, found ${JSON.stringify(values.user)}`,
    );
  const config: StackConfig =
    values.lab !== undefined ? labStackConfig(values.lab) : pulumiStackConfig(values.stack!, process.cwd());
  const progress = (line: string) => process.stderr.write(`doctor: ${line}\n`);
  if (values.watch) {
    const once = ["user", "since", "json"].filter((name) => values[name as "user" | "since" | "json"]);
    if (once.length > 0) throw new Error(`--watch: --${once.join(", --")} apply to one run only. ${usage}`);
    return watch(config, values.listen, values.interval, progress);
  }
  const facts = await gatherFacts(config, {
    graph: graphClientFor(config, { maxRetries: 3 }),
    runnerFor: winrmRunner,
    since,
    now,
    progress,
    ...(values.user === undefined ? {} : { user: values.user }),
  });
  const report = doctorReport(diagnose(facts));
  console.log(
    values.json ? JSON.stringify(report, null, 2) : renderTable(report, process.stdout.columns ?? 160),
  );
  return report.cause === null ? 0 : 1;
}

/** --watch: serves /metrics until SIGINT or SIGTERM, then exits 0. */
async function watch(
  config: StackConfig,
  listen: string | undefined,
  interval: string | undefined,
  log: (line: string) => void,
): Promise<number> {
  if (listen === undefined) throw new Error(`--watch needs --listen <host:port>. ${usage}`);
  const intervalSeconds = Number(interval ?? 300);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1)
    throw new Error(`--interval: expected a number of seconds, 1 or more, found ${JSON.stringify(interval)}`);
  const monitor = await startMonitor({
    config,
    graph: graphClientFor(config, { maxRetries: 3 }),
    runnerFor: winrmRunner,
    intervalSeconds,
    listen: parseListen(listen),
    log,
  });
  log(`serving ${monitor.url}/metrics and /healthz, a round every ${intervalSeconds} s`);
  await new Promise((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await monitor.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`doctor: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
