import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { configReferenceMarkdown, settingDescriptions, settingRows } from "../../config/reference";

describe("configuration reference", () => {
  it("describes every setting the schema has, and no setting it lacks", () => {
    const schemaPaths = settingRows()
      .map((row) => row.path)
      .sort();
    assert.deepEqual(Object.keys(settingDescriptions).sort(), schemaPaths);
  });

  it("is in the README exactly as the schema generates it (run `npm run docs:config` after a change)", () => {
    const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
    assert.ok(
      readme.includes(configReferenceMarkdown()),
      "README.md's configuration reference is out of date",
    );
  });

  it("shows defaults and bounds taken from the schema", () => {
    const timeout = settingRows().find((row) => row.path === "vpnServers[].radiusTimeoutSeconds");
    assert.deepEqual(timeout, {
      path: "vpnServers[].radiusTimeoutSeconds",
      type: "integer (≥ 60, ≤ 600)",
      required: false,
      defaultValue: 60,
    });
  });
});
