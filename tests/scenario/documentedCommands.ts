// The command blocks our documentation gives, as scenario tests run them: each fenced block that runs a
// `pulumi` operation sits right after a `<!-- scenario: NAME -->` marker, and a scenario test runs the
// block NAME line by line through PulumiCli. docsCommands.test.ts checks that no such block goes unmarked.
import * as fs from "node:fs";
import * as path from "node:path";
import { shellWords } from "./pulumiCli";

export const repoRoot = path.resolve(__dirname, "..", "..");

export interface DocumentedBlock {
  file: string;
  /** The marker's name, or undefined for a block without one. */
  name?: string;
  /** Command lines, `\` continuations joined, comments and blank lines dropped, words single-spaced. */
  lines: string[];
}

/** Every fenced `sh` block of a Markdown file (relative to the repository), with the marker before it. */
export function documentedBlocks(file: string): DocumentedBlock[] {
  const text = fs.readFileSync(path.join(repoRoot, file), "utf8");
  const blocks: DocumentedBlock[] = [];
  const pattern = /(?:<!-- scenario: ([\w-]+) -->\s*\n)?```sh\n([\s\S]*?)```/g;
  for (const match of text.matchAll(pattern)) {
    const lines = match[2]
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .map((line) => shellWords(line).join(" "))
      .filter((line) => line);
    blocks.push({ file, ...(match[1] ? { name: match[1] } : {}), lines });
  }
  return blocks;
}

/** The lines of the block marked NAME in a Markdown file; throws if there is none. */
export function documentedBlock(file: string, name: string): string[] {
  const block = documentedBlocks(file).find((entry) => entry.name === name);
  if (!block) throw new Error(`${file}: no fenced sh block after <!-- scenario: ${name} -->`);
  return block.lines;
}

/** True for a line that runs a Pulumi operation (as opposed to setting up a machine or the stack). */
export function runsAnOperation(line: string): boolean {
  return /^pulumi (preview|up|refresh|destroy|import)\b/.test(line);
}
