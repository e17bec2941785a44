// `npm run docs:config`: rewrites the README's configuration reference from the zod schema.
import * as fs from "node:fs";
import * as path from "node:path";
import { configReferenceMarkdown, referenceEnd, referenceStart } from "../config/reference";

const readmePath = path.resolve(__dirname, "..", "README.md");
const readme = fs.readFileSync(readmePath, "utf8");
const start = readme.indexOf(referenceStart);
const end = readme.indexOf(referenceEnd);
if (start < 0 || end < start) {
  throw new Error(`README.md: expected the markers ${referenceStart} and ${referenceEnd}, found none`);
}
fs.writeFileSync(
  readmePath,
  readme.slice(0, start) + configReferenceMarkdown() + readme.slice(end + referenceEnd.length),
);
console.log("README.md: configuration reference regenerated");
