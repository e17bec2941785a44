// `npm run build` (and npm ci's prepare): the package's JavaScript and types into dist/, from
// tsconfig.build.json, with the PowerShell scripts the providers send to hosts beside remote/hostScripts.js.
// Plain JavaScript: `npm ci --omit=dev` runs it without TypeScript, and then keeps a dist/ built before.
import { spawnSync } from "node:child_process";
import console from "node:console";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  const built = fs.existsSync(path.join(dist, "library.js"));
  console.error(
    built
      ? "npsmfa build: TypeScript is not installed (npm ci --omit=dev): keeping the dist/ built before"
      : "npsmfa build: TypeScript is not installed (npm ci --omit=dev) and there is no dist/: build where the " +
          "devDependencies are installed (npm ci && npm run build) and bring dist/ along, or install the package",
  );
  process.exit(built ? 0 : 1);
}

fs.rmSync(dist, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
fs.cpSync(path.join(root, "remote", "scripts"), path.join(dist, "remote", "scripts"), { recursive: true });
