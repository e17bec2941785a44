// Several processes registering NPS certificates on one tenant at once: each child runs its own Graph
// emulator on a shared state file (tests/entra/registerChild.ts), so the writes race as separate
// operators' runs would, each child with its own faults. Released together; every outcome is returned.
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { RegisterChildArgs, RegisterChildResult } from "./registerChild";

const childTimeoutMs = 240_000;

function startChild(args: RegisterChildArgs) {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, "registerChild.ts"), JSON.stringify(args)],
    { cwd: path.resolve(__dirname, "..", ".."), stdio: ["pipe", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes("ready\n")) onReady();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill(), childTimeoutMs);
  const finished = new Promise<RegisterChildResult>((resolve, reject) => {
    child.once("exit", (code) => {
      clearTimeout(killer);
      const line = stdout.split("\n").find((text) => text.startsWith("{"));
      if (code === 0 && line) resolve(JSON.parse(line) as RegisterChildResult);
      else reject(new Error(`writer for ${args.host} exited ${code}: ${stderr || stdout}`));
    });
  });
  return { child, ready: Promise.race([ready, finished.then(() => undefined)]), finished };
}

/** Starts one process per writer, waits until all are ready, releases them together, returns their outcomes. */
export async function raceWriters(writers: RegisterChildArgs[]): Promise<RegisterChildResult[]> {
  const children = writers.map(startChild);
  await Promise.all(children.map((entry) => entry.ready));
  for (const { child } of children) child.stdin.write("go\n");
  return Promise.all(children.map((entry) => entry.finished));
}
