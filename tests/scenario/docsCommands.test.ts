// Every Pulumi command sequence we document is one a scenario test runs as written: each fenced block in
// README.md and docs/ that runs a Pulumi operation carries a `<!-- scenario: NAME -->` marker, and the
// block NAME is run by the test named here. `npm run lab`'s printout repeats the README's first run.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { nextSteps } from "../../lab/stackFiles";
import { documentedBlock, documentedBlocks, repoRoot, runsAnOperation } from "./documentedCommands";
import { shellWords } from "./pulumiCli";

/** Each marked block and the scenario test that runs it. */
const runBy: Record<string, string> = {
  nightly: "article.test.ts, lifecycle.test.ts",
  "nightly-policy": "article.test.ts, rollout.test.ts",
  repair: "article.test.ts, lifecycle.test.ts, rollout.test.ts",
  "remove-server": "lifecycle.test.ts",
  "rotate-secret": "lifecycle.test.ts",
  "lab-first-run": "article.test.ts",
  "lab-drift": "article.test.ts",
  "lab-destroy": "article.test.ts",
  "upgrade-extension": "rollout.test.ts",
};

const markdownFiles = [
  "README.md",
  ...fs
    .readdirSync(path.join(repoRoot, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`),
];

describe("documented Pulumi commands are the ones scenario tests run", () => {
  it("every block in README.md and docs/ that runs a Pulumi operation is marked and run by a scenario test", () => {
    const unmarked = markdownFiles.flatMap((file) =>
      documentedBlocks(file)
        .filter((block) => block.lines.some(runsAnOperation))
        .filter((block) => block.name === undefined || !(block.name in runBy))
        .map((block) => `${block.file}: ${block.lines.find(runsAnOperation)}`),
    );
    // docs/policies.md is the policy pack's own page: its pipeline commands add only policy flags to the
    // nightly check, which tests/policies/ runs through the pack.
    assert.deepEqual(
      unmarked.filter((entry) => !entry.startsWith("docs/policies.md")),
      [],
    );
  });

  it("npm run lab prints the README's first run, line for line", () => {
    const printed = nextSteps(".lab", ".")
      .split("\n")
      .map((line) => shellWords(line.trim()).join(" "))
      .filter((line) => line.startsWith("pulumi "));
    const documented = documentedBlock("README.md", "lab-first-run")
      .map((line) => shellWords(line).join(" "))
      .filter((line) => line.startsWith("pulumi "));
    assert.deepEqual(printed, documented);
  });
});
