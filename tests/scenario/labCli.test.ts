// `npm run lab` as a person runs it: a child process that writes lab.json, whose endpoints answer over
// TLS from the lab CA, and that stops every process it started on SIGTERM, which npm passes on.
import * as assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import type { LabDescription } from "../../lab/stackFiles";

const repoRoot = path.resolve(__dirname, "../..");

/** Every descendant of a process, from `ps` (children, grandchildren, ...). */
function descendants(pid: number): number[] {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of table) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, seconds: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function request(
  url: string,
  ca: Buffer,
  method: string,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = https.request(
      url,
      {
        method,
        ca,
        agent: false,
        headers: body ? { "Content-Type": "application/soap+xml;charset=UTF-8" } : {},
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

describe("scenario: npm run lab as a user starts it", function () {
  this.timeout(90_000);
  let labDir: string;
  let projectDir: string;
  let npm: ChildProcess | undefined;
  let started: number[] = [];
  let output = "";

  before(() => {
    labDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-scenario-cli-"));
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-scenario-cli-project-"));
  });

  after(() => {
    for (const pid of [npm?.pid, ...started]) {
      if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
    }
    for (const dir of [labDir, projectDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes lab.json, answers on Graph and WinRM, and SIGTERM to npm stops every process it started", async () => {
    npm = spawn("npm", ["run", "lab", "--", "--dir", labDir, "--nps", "1", "--vpn", "1"], {
      cwd: repoRoot,
      env: { ...process.env, NPSMFA_LAB_PROJECT_DIR: projectDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    npm.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const fail = () => {
      throw new Error(`npm run lab exited with ${npm?.exitCode}:\n${output}`);
    };
    await waitFor("the lab to say it is running", 60, () =>
      output.includes("The lab is running") ? true : npm?.exitCode !== null ? fail() : undefined,
    );

    const lab = JSON.parse(fs.readFileSync(path.join(labDir, "lab.json"), "utf8")) as LabDescription;
    assert.ok(fs.existsSync(path.join(projectDir, "Pulumi.lab.yaml")), "Pulumi.lab.yaml went elsewhere");
    assert.ok(fs.existsSync(path.join(labDir, "set-lab-secrets.sh")));
    started = descendants(npm.pid!);
    assert.ok(started.length > 0, "npm started no process");

    const ca = fs.readFileSync(lab.caFile);
    const discovery = await request(
      `${lab.graph.authority}/${lab.tenantId}/v2.0/.well-known/openid-configuration`,
      ca,
      "GET",
    );
    assert.equal(discovery.status, 200);
    assert.match(JSON.parse(discovery.body).token_endpoint, /\/oauth2\/v2\.0\/token$/);

    for (const host of lab.hosts) {
      const answer = await request(host.winrmUrl, ca, "POST", "<s:Envelope/>");
      assert.equal(answer.status, 401, `${host.name}: WinRM without credentials`);
      const offered = [answer.headers["www-authenticate"]].flat().join(", ");
      assert.match(offered, /Negotiate|Basic/, `${host.name}: offers ${offered}`);
    }

    const exited = new Promise<number | null>((resolve) => npm!.once("exit", (code) => resolve(code)));
    npm.kill("SIGTERM");
    await waitFor("npm to exit", 20, () =>
      npm?.exitCode !== null || npm?.signalCode !== null ? true : undefined,
    );
    await exited;
    await waitFor(`every lab process to stop (${started.join(", ")})`, 20, () =>
      started.every((pid) => !alive(pid)) ? true : undefined,
    );
  });
});
