// A Pulumi plugin as the engine starts one: a child process that serves gRPC on 127.0.0.1 and prints its
// port as the first line of its stdout (sdk/go/common/resource/plugin/plugin.go, newPlugin: reads the
// port from stdout). The dynamic-provider host and a policy pack's analyzer both start this way.
import { ChildProcess, spawn } from "node:child_process";

// Generous: a loaded 2-core machine takes seconds to load @pulumi/pulumi in a new process.
const startTimeoutMs = 90_000;

/** Runs `node <args>` in `cwd`; resolves with the child and its port once it printed the port. */
export async function startPlugin(
  what: string,
  args: string[],
  cwd: string,
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(
      () => fail(new Error(`${what} printed no port in ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    child.once("error", fail);
    child.once("exit", (code) =>
      fail(
        new Error(
          `${what} exited with ${code} before printing its port${stderr ? `: ${stderr.trim()}` : ""}`,
        ),
      ),
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve(Number(stdout.slice(0, newline).trim()));
    });
  });
  return { child, port, stderr: () => stderr };
}

/** Stops a plugin's process and waits for it to exit. */
export async function stopPlugin(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill();
  await exited;
}
