// A mocha root hook (.mocharc.json requires it). Providers tell the operator things through pulumi.log,
// which with no engine connected prints `warning: [runtime] ...` on the console. In tests that call
// providers directly those lines are expected, yet in a passing run they read like trouble: they go to a
// file instead, named once at the end. A test that wants them replaces console.warn itself, as before.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { format } from "node:util";

const runtimeWarning = "warning: [runtime] ";
const file =
  process.env.NPSMFA_PROVIDER_LOG || path.join(os.tmpdir(), `npsmfa-provider-messages-${process.pid}.log`);
let written = 0;
let consoleWarn: typeof console.warn | undefined;

export const mochaHooks = {
  beforeAll(): void {
    if (consoleWarn) return;
    consoleWarn = console.warn;
    const warn = consoleWarn;
    console.warn = (...args: unknown[]) => {
      const text = format(...args);
      if (!text.startsWith(runtimeWarning)) return warn.apply(console, args);
      fs.appendFileSync(file, text + "\n");
      written += 1;
    };
  },
  afterAll(): void {
    if (consoleWarn) console.warn = consoleWarn;
    consoleWarn = undefined;
    // Under --parallel the root hooks run once per file, so each file reports its own messages.
    if (written > 0) console.log(`\n  ${written} provider messages (pulumi.log) went to ${file}`);
    written = 0;
  },
};
