// A real Prometheus (Debian's prometheus 2.42, installed by .ci/run) for tests: scrapes one target every second
// with the project's alerting rules, on loopback, its config and data in a temp folder, and answers queries
// through its HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/).
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query: its samples (a vector result). */
  query(expression: string): Promise<Sample[]>;
  /**
   * Polls `query` once a second until `accept` takes its samples, or throws after `timeoutSeconds` with the
   * last samples: a bounded wait, not a timing assertion.
   */
  waitFor(
    what: string,
    expression: string,
    accept: (samples: Sample[]) => boolean,
    timeoutSeconds?: number,
  ): Promise<Sample[]>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPrometheus(target: string, rulesFile: string): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-prometheus-"));
  const config = {
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    rule_files: [rulesFile],
    scrape_configs: [{ job_name: "npsmfa", static_configs: [{ targets: [target] }] }],
  };
  fs.writeFileSync(path.join(dir, "prometheus.yml"), yaml.dump(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const spawnError = new Promise<never>((_resolve, reject) =>
    child.once("error", (error) =>
      reject(new Error(`prometheus could not start (install Debian's prometheus package): ${error.message}`)),
    ),
  );
  spawnError.catch(() => undefined);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };

  // Ready: /-/ready answers 200 once the TSDB is open and rules are loaded (bounded wait).
  for (let attempt = 0; ; attempt++) {
    const ready = await Promise.race([
      fetch(`${url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      ),
      spawnError,
    ]);
    if (ready) break;
    if (attempt >= 120 || child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus did not become ready at ${url}:\n${log.slice(-2000)}`);
    }
    await delay(500);
  }

  const query = async (expression: string): Promise<Sample[]> => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success") throw new Error(`prometheus: ${expression}: ${body.error}`);
    return body.data!.result.map((entry) => ({ metric: entry.metric, value: Number(entry.value[1]) }));
  };

  return {
    url,
    query,
    async waitFor(what, expression, accept, timeoutSeconds = 180) {
      let samples: Sample[] = [];
      for (let attempt = 0; attempt < timeoutSeconds; attempt++) {
        samples = await query(expression);
        if (accept(samples)) return samples;
        await delay(1000);
      }
      throw new Error(
        `waited ${timeoutSeconds} polls for ${what}; ${expression} = ${JSON.stringify(samples)}`,
      );
    },
    stop,
  };
}
