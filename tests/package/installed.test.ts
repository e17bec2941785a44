// Issue 24's proof: the package as a user gets it. `npm pack` (nothing of tests, lab or secrets in it),
// the tarball installed with `npm install --omit=dev` into a project made from templates/estate outside the
// repository, and our engine driving that project's program through its own dynamic-provider host
// against the lab: preview --refresh, up --refresh, the dial, a drift repaired, destroy; then the same
// project compiled (`main: bin/`), and a copy of this repository after `npm ci --omit=dev`. One lab and one
// tarball for all of them: a new end-to-end test pays for its lab in npm test's time.
//
// Each host runs with a probe (NODE_OPTIONS=--require) that, when the engine stops the host, writes the
// host's directory, its require.extensions and every module it loaded: no TypeScript loader, and nothing
// from the repository's folders, may be among them.
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { emptyState, Engine, EngineState, Step } from "../../engine";
import { RunningLab, startLab } from "../../lab/cli";
import { dialInLab } from "../../lab/radius/vpnDial";
import { readHostState, updateHostState } from "../../lab/windows/hostState";
import { labStack } from "../../lab/stackFiles";
import { labSecrets } from "../scenario/support";

const run = promisify(execFile);
const repoRoot = fs.realpathSync(path.resolve(__dirname, "..", ".."));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const quiet = ["--no-audit", "--no-fund", "--offline"];

interface HostProbe {
  cwd: string;
  extensions: string[];
  modules: string[];
}

const probeSource = `const fs = require("node:fs");
process.once("SIGTERM", () => {
  const probe = { cwd: process.cwd(), extensions: Object.keys(require.extensions), modules: Object.keys(require.cache) };
  fs.writeFileSync(require("node:path").join(process.env.NPSMFA_HOST_PROBES, process.pid + ".json"), JSON.stringify(probe));
  process.exit(0);
});
`;

interface ProjectManifest {
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/**
 * The project's lockfile: this repository's pins for every package, as a user's lockfile pins versions, so
 * `npm install` takes each from the local cache by its integrity (npm ci leaves the registry's package
 * lists out of the cache, and the test runs offline). npm drops what nothing in the project needs.
 */
function projectLock(manifest: ProjectManifest, integrity: string, tarball: string): unknown {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const ours = lock.packages[""];
  return {
    ...lock,
    name: manifest.name,
    packages: {
      ...lock.packages,
      "": {
        name: manifest.name,
        dependencies: manifest.dependencies,
        devDependencies: manifest.devDependencies,
      },
      "node_modules/npsmfa": {
        version: ours.version,
        resolved: `file:${tarball}`,
        integrity,
        license: ours.license,
        dependencies: ours.dependencies,
        engines: ours.engines,
      },
    },
  };
}

/** A project from templates/estate, outside the repository, depending on the tarball: `npm install --omit=dev`. */
async function installFromTemplate(projectDir: string, tarball: string, integrity: string): Promise<void> {
  fs.cpSync(path.join(repoRoot, "templates", "estate"), projectDir, { recursive: true });
  const manifestFile = path.join(projectDir, "package.json");
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as ProjectManifest;
  manifest.dependencies.npsmfa = `file:${tarball}`;
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  fs.writeFileSync(
    path.join(projectDir, "package-lock.json"),
    JSON.stringify(projectLock(manifest, integrity, path.relative(projectDir, tarball))),
  );
  await run(npm, ["install", "--omit=dev", ...quiet], { cwd: projectDir });
}

/**
 * This repository's tracked files and the dist/ a pipeline's build stage leaves, then `npm ci --omit=dev`
 * (scripts off: prepare would only restore the .NET test tools and keep that dist/).
 */
async function copyAndInstallRepository(copy: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z"], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  for (const file of stdout
    .split("\0")
    .filter((entry) => entry && fs.existsSync(path.join(repoRoot, entry)))) {
    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, file), path.join(copy, file));
  }
  fs.cpSync(path.join(repoRoot, "dist"), path.join(copy, "dist"), { recursive: true });
  await run(npm, ["ci", "--omit=dev", "--ignore-scripts", ...quiet], { cwd: copy });
}

const changed = (steps: Step[]) =>
  steps
    .filter((step) => step.op !== "same")
    .map((step) => `${step.op} ${step.name}`)
    .sort();

describe("the packed package, installed into a Pulumi project of its own", function () {
  this.timeout(900_000);
  let workDir: string;
  let packed: string[];
  let repositoryCopy: string;
  let projectDir: string;
  let probeDir: string;
  let lab: RunningLab;
  let state: EngineState = emptyState();
  const engines: Engine[] = [];
  const savedNodeOptions = process.env.NODE_OPTIONS;

  /** The project's program as the CLI runs it: its entry file, loaded anew for each command. */
  const programAt = (file: string) => () => {
    delete require.cache[file];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's program, by path
    return require(file);
  };
  const startEngine = async (dir: string, entry?: string) => {
    const engine = await Engine.start({
      stack: labStack(lab.description),
      projectDir: dir,
      ...(entry ? { program: programAt(entry) } : {}),
    });
    engines.push(engine);
    return engine;
  };
  /** What the hosts started since the last call wrote, each checked for loaders and module paths. */
  const takeProbes = (packageDir: string): HostProbe[] => {
    const probes = fs.readdirSync(probeDir).map((file) => {
      const probe = JSON.parse(fs.readFileSync(path.join(probeDir, file), "utf8")) as HostProbe;
      fs.rmSync(path.join(probeDir, file));
      return probe;
    });
    assert.ok(probes.length > 0, "no host wrote its probe");
    for (const probe of probes) {
      assert.ok(!probe.extensions.includes(".ts"), `a TypeScript loader in the host: ${probe.extensions}`);
      assert.deepEqual(
        // typescript itself is there: @pulumi/pulumi parses functions with it (typescript-shim.ts).
        probe.modules.filter((file) => /[\\/](ts-node|@swc)[\\/]/.test(file)),
        [],
        "the host loaded a TypeScript loader",
      );
      const fromRepo = probe.modules.filter((file) => file.startsWith(`${repoRoot}${path.sep}`));
      assert.deepEqual(fromRepo, [], "the host loaded modules from the repository");
      assert.ok(
        probe.modules.includes(path.join(packageDir, "dist", "providers", "implementations.js")),
        `the host did not load ${packageDir}'s compiled providers`,
      );
    }
    return probes;
  };
  const vpnFile = () => lab.description.hosts.find((host) => host.name === "vpn01")!.stateFile;

  before(async () => {
    workDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-installed-")));
    assert.ok(
      fs.existsSync(path.join(repoRoot, "dist", "library.js")),
      "dist/ missing: run npm run build (npm test does)",
    );
    // The tarball from the dist/ npm test built (`prepare` would build it again).
    const { stdout } = await run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", workDir], {
      cwd: repoRoot,
    });
    const [pack] = JSON.parse(stdout) as { filename: string; integrity: string; files: { path: string }[] }[];
    packed = pack.files.map((file) => file.path);
    projectDir = path.join(workDir, "estate");
    repositoryCopy = path.join(workDir, "repository");
    // The two installs and the lab at once: npm spends its time on the disk, the lab on its PowerShell.
    const labStarted = startLab({
      dir: path.join(workDir, "lab"),
      projectDir,
      nps: 1,
      vpn: 1,
      seed: "article",
      approvalSeconds: 1,
    });
    await Promise.all([
      installFromTemplate(projectDir, path.join(workDir, pack.filename), pack.integrity),
      copyAndInstallRepository(repositoryCopy),
      labStarted.then((started) => (lab = started)),
    ]);
    probeDir = path.join(workDir, "probes");
    fs.mkdirSync(probeDir);
    fs.writeFileSync(path.join(workDir, "probe.js"), probeSource);
    process.env.NPSMFA_HOST_PROBES = probeDir;
    process.env.NODE_OPTIONS = `${savedNodeOptions ?? ""} --require ${path.join(workDir, "probe.js")}`.trim();
  });

  after(async () => {
    if (savedNodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = savedNodeOptions;
    delete process.env.NPSMFA_HOST_PROBES;
    for (const engine of engines) await engine.stop();
    await lab?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it("npm pack holds the compiled package and its README, and no test, lab, source or secret file", () => {
    const unexpected = packed.filter(
      (file) => !/^(package\.json|README\.md)$/.test(file) && !/^dist\/.+\.(js|d\.ts|ps1)$/.test(file),
    );
    assert.deepEqual(unexpected, []);
    assert.ok(packed.includes("dist/library.js") && packed.includes("dist/remote/scripts/IasRestart.ps1"));
    assert.deepEqual(
      packed.filter((file) =>
        /(^|\/)(tests?|lab|demo|bench|scripts)\/|\.lab|Pulumi\..*\.yaml|\.pem$/.test(file),
      ),
      [
        "dist/remote/scripts/Doctor.ps1",
        "dist/remote/scripts/HostFacts.ps1",
        "dist/remote/scripts/IasLoaded.ps1",
        "dist/remote/scripts/IasRestart.ps1",
        "dist/remote/scripts/NpsCertificate.ps1",
        "dist/remote/scripts/NpsExtensionInstall.ps1",
        "dist/remote/scripts/NpsExtensionSettings.ps1",
        "dist/remote/scripts/Prelude.ps1",
        "dist/remote/scripts/RadiusTimeout.ps1",
      ].filter((file) => packed.includes(file)),
      "only the host scripts may sit in a scripts/ folder",
    );
  });

  it("the template's index.ts: preview --refresh, up --refresh, the dial connects, a drift is repaired", async () => {
    const installed = path.join(projectDir, "node_modules", "npsmfa");
    const engine = await startEngine(projectDir, path.join(projectDir, "index.ts"));

    const preview = await engine.preview(state, { refresh: true });
    assert.ok(preview.changes.length > 0 && preview.changes.every((step) => step.op === "create"));
    ({ state } = await engine.up(state, { refresh: true }));
    assert.equal((await dialInLab(lab.description, "vpn01", "alice", lab.dir)).outcome, "connected");
    // The program's modules are the installed package's, not the repository's.
    const loaded = Object.keys(require.cache).filter((file) =>
      file.includes(`${path.sep}npsmfa${path.sep}dist${path.sep}`),
    );
    assert.ok(loaded.length > 0 && loaded.every((file) => file.startsWith(installed)), loaded.join("\n"));

    updateHostState(vpnFile(), (host) => host.remoteAccessRadius.forEach((entry) => (entry.timeout = 5)));
    assert.deepEqual(changed((await engine.preview(state, { refresh: true })).changes), [
      "update vpn01-radius-timeout",
    ]);
    ({ state } = await engine.up(state, { refresh: true }));
    assert.deepEqual(
      readHostState(vpnFile()).remoteAccessRadius.map((entry) => entry.timeout),
      [60],
    );
    assert.deepEqual((await engine.preview(state, { refresh: true })).changes, []);

    const probes = takeProbes(installed);
    assert.ok(probes.every((probe) => probe.cwd === projectDir));
    const text = JSON.stringify(state);
    for (const secret of labSecrets(lab.description))
      assert.ok(!text.includes(secret), "a secret in the state");
    for (const resource of state.resources.filter((entry) => entry.custom)) {
      // By value: a `require` of the package's seam module would tie state to one install's layout.
      assert.doesNotMatch(String(resource.inputs.__provider), /dist\/providers\/seam/);
      assert.ok(
        Buffer.byteLength(String(resource.inputs.__provider)) <= 8192,
        `${resource.name}: a large __provider`,
      );
    }
  });

  it("npm ci --omit=dev in a copy of this repository, then a refresh through the engine loads no ts-node", async () => {
    const engine = await startEngine(repositoryCopy);
    const { steps } = await engine.refresh(state);
    assert.deepEqual(changed(steps), []);
    const probes = takeProbes(repositoryCopy);
    assert.ok(probes.every((probe) => probe.cwd === repositoryCopy));
  });

  it("destroy, then the same project compiled (main: bin/): up --refresh adopts, nothing drifts, destroy", async () => {
    const installed = path.join(projectDir, "node_modules", "npsmfa");
    const first = engines[0];
    ({ state } = await first.destroy(state));
    takeProbes(installed);

    // The CLI runs the program from `main:` and starts the host there (provider_plugin.go: ctx.Pwd).
    const pulumiYaml = path.join(projectDir, "Pulumi.yaml");
    fs.writeFileSync(pulumiYaml, `${fs.readFileSync(pulumiYaml, "utf8")}main: bin/\n`);
    // The template's tsconfig.json compiles index.ts into bin/ (TypeScript from this repository: a build tool).
    const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [tsc, "-p", projectDir]);
    const binDir = path.join(projectDir, "bin");
    const engine = await startEngine(binDir, path.join(binDir, "index.js"));
    const up = await engine.up(state, { refresh: true });
    assert.ok(up.steps.length > 0 && up.steps.every((step) => step.op === "create"));
    assert.deepEqual((await engine.preview(up.state, { refresh: true })).changes, []);
    ({ state } = await engine.destroy(up.state));
    assert.deepEqual(state.resources, []);
    const probes = takeProbes(installed);
    assert.ok(probes.every((probe) => probe.cwd === binDir));
  });
});
