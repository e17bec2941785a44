// `npm run doctor -- [--stack <name> | --lab <dir>] [--user <upn>] [--since <ISO time | hours>] [--json]` (--help)
// Why does MFA sign-in for VPN fail right now? Reads the tenant and every server (read-only), prints the
// findings with the first failing one first, exits 0 when nothing fails, 1 when something does, 2 on bad input.
// With `--watch --listen <host:port> [--interval <seconds>]` it runs as a Prometheus exporter (watch.ts).
import { CommandHelp, parseCommandLine, runCommand, UsageError, usageText } from "../cli/commandLine";
import type { StackConfig } from "../config/schema";
import { graphClientFor } from "../remote/graph/client";
import { winrmRunner } from "../remote/windows/winrmRunner";
import { labStackConfig, pulumiStackConfig } from "./config";
import { defaultSince, examine } from "./examine";
import { doctorReport, renderTable } from "./report";
import { parseListen, startMonitor } from "./watch";

const doctorCommand: CommandHelp = {
  name: "npm run doctor",
  synopsis: [
    "(--stack <name> | --lab <dir>) [--user <upn>] [options]",
    "--watch --listen <host:port> [options]",
  ],
  description:
    "Why does MFA sign-in for VPN fail right now? Reads the tenant and every server (nothing is written), " +
    "prints the cause first, then every check. Exits 0 when nothing fails, 1 when something does, 2 on bad input.",
  options: {
    stack: { type: "string", value: "<name>", help: "a Pulumi stack of this project (needs the Pulumi CLI)" },
    lab: { type: "string", value: "<dir>", help: "a running lab's folder, instead of --stack" },
    user: { type: "string", value: "<upn>", help: "also check this user (alice@contoso.com)" },
    since: {
      type: "string",
      value: "<time | hours>",
      default: "24",
      help: "read events since an ISO time, or this many hours ago",
    },
    json: {
      type: "boolean",
      default: false,
      help: "the report as JSON (npm run --silent doctor -- ... --json)",
    },
    watch: {
      type: "boolean",
      default: false,
      help: "run the checks every interval and serve them to Prometheus on /metrics (README: Monitor it)",
    },
    listen: {
      type: "string",
      value: "<host:port>",
      help: "with --watch: where to serve /metrics and /healthz",
    },
    interval: {
      type: "string",
      value: "<seconds>",
      default: "300",
      help: "with --watch: seconds between rounds",
    },
  },
  examples: [
    "npm run doctor -- --lab .lab --user alice@lab.example.com",
    "npm run doctor -- --lab .lab --watch --listen 127.0.0.1:9464",
  ],
};

function sinceFrom(text: string | undefined, now: Date): Date {
  if (text === undefined) return defaultSince(now);
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(now.getTime() - Number(text) * 3_600_000);
  const time = Date.parse(text);
  if (Number.isNaN(time))
    throw new UsageError(`--since: expected an ISO time or a number of hours, found ${JSON.stringify(text)}`);
  return new Date(time);
}

async function main(): Promise<number> {
  const { help, values: parsed } = parseCommandLine(doctorCommand, process.argv.slice(2));
  if (help) {
    console.log(usageText(doctorCommand));
    return 0;
  }
  const values = parsed as {
    stack?: string;
    lab?: string;
    since?: string;
    user?: string;
    json: boolean;
    watch: boolean;
    listen?: string;
    interval?: string;
  };
  if ((values.stack === undefined) === (values.lab === undefined))
    throw new UsageError("expected one of --stack <name> or --lab <dir>");
  const now = new Date();
  const since = sinceFrom(values.since, now);
  if (values.user !== undefined && !/^[^@\s]+@[^@\s]+$/.test(values.user))
    throw new UsageError(
      `--user: expected a user principal name such as alice@contoso.com, found ${JSON.stringify(values.user)}`,
    );
  const config: StackConfig =
    values.lab !== undefined ? labStackConfig(values.lab) : pulumiStackConfig(values.stack!, process.cwd());
  const progress = (line: string) => process.stderr.write(`doctor: ${line}\n`);
  if (values.watch) {
    const once = (["user", "json"] as const).filter((name) => values[name]);
    if (once.length > 0) throw new UsageError(`--watch: --${once.join(", --")} apply to one run only`);
    return watch(config, values.listen, values.interval, progress);
  }
  const report = doctorReport(await examine(config, { since, now, progress, user: values.user }));
  console.log(
    values.json
      ? JSON.stringify(report, null, 2)
      : // A pipe has no width: the COLUMNS a shell exports, else 80, so the text fits any terminal it reaches.
        renderTable(report, process.stdout.columns ?? (Number(process.env.COLUMNS) || 80)),
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
  if (listen === undefined)
    throw new UsageError("--watch needs --listen <host:port>, such as 127.0.0.1:9464");
  const intervalSeconds = Number(interval ?? 300);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1)
    throw new UsageError(
      `--interval: expected a number of seconds, 1 or more, found ${JSON.stringify(interval)}`,
    );
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

runCommand("npm run doctor", main, 2);
