// The alerting rules shipped for the monitor, checked by Prometheus's own promtool (Debian's prometheus
// package, installed by .ci/run): they load, every alert's unit test passes, and every description names a
// doctor check and the fix the doctor gives for it.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { CheckId, checkIds, fixes } from "../../doctor/checks";

const monitoring = path.resolve(__dirname, "../../monitoring");
const rulesFile = path.join(monitoring, "npsmfa.rules.yml");
const testsFile = path.join(monitoring, "npsmfa.rules.test.yml");

interface AlertRule {
  alert: string;
  expr: string;
  annotations: { summary: string; description: string };
}

function alertRules(): AlertRule[] {
  const rules = yaml.load(fs.readFileSync(rulesFile, "utf8")) as { groups: { rules: AlertRule[] }[] };
  return rules.groups.flatMap((group) => group.rules);
}

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)("promtool", args, { cwd: monitoring });
    return stdout + stderr;
  } catch (error) {
    const failure = error as { code?: string; stdout?: string; stderr?: string; message: string };
    if (failure.code === "ENOENT")
      throw new Error("promtool not found: install Debian's prometheus package (.ci/run does)");
    throw new Error(`promtool ${args.join(" ")} failed:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  }
}

describe("monitoring: alerting rules (promtool)", function () {
  this.timeout(120_000);

  it("loads with promtool check rules", async () => {
    assert.match(await promtool("check", "rules", rulesFile), /SUCCESS: 6 rules found/);
  });

  it("passes its promtool unit tests, and every alert has one where it fires", async () => {
    assert.match(await promtool("test", "rules", testsFile), /SUCCESS/);
    const tests = yaml.load(fs.readFileSync(testsFile, "utf8")) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((entry) =>
        (entry.alert_rule_test ?? [])
          .filter((check) => check.exp_alerts.length > 0)
          .map((check) => check.alertname),
      ),
    );
    for (const rule of alertRules())
      assert.ok(fired.has(rule.alert), `${rule.alert} has no test where it fires`);
  });

  it("names in every description a doctor check and the doctor's fix for it", () => {
    for (const rule of alertRules()) {
      const description = rule.annotations.description.replace(/\s+/g, " ");
      const named = checkIds.filter((id) => new RegExp(`\\bcheck ${id}\\b`, "i").test(description));
      assert.ok(
        named.length > 0 || description.includes("Check {{ $labels.check }}"),
        `${rule.alert}: no check id`,
      );
      const fix = /Fix \(the doctor's[^)]*\): (.*)$/.exec(description)?.[1];
      assert.ok(fix, `${rule.alert}: no "Fix (the doctor's): ..."`);
      if (fix === "{{ $labels.fix }}") continue;
      const doctorFixes = named.flatMap((id: CheckId) =>
        ["{{ $labels.host }}", "the server"].map((where) => fixes[id](where)),
      );
      assert.ok(
        doctorFixes.includes(fix),
        `${rule.alert}: "${fix}" is not the doctor's fix for ${named.join(", ")}`,
      );
    }
  });
});
