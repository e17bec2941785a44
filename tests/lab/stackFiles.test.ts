import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parseStackConfig } from "../../config/schema";
import { UsageError } from "../../cli/commandLine";
import { parseLabArguments } from "../../lab/cli";
import {
  LabDescription,
  nextSteps,
  pulumiLabYaml,
  readLabDescription,
  setSecretsScript,
} from "../../lab/stackFiles";

const lab: LabDescription = {
  tenantId: "5f2b8a61-7c1e-4d0a-9b7e-2c6f1a3d9e40",
  caFile: "/tmp/lab/lab-ca.pem",
  seed: "article",
  graphStateFile: "/tmp/lab/graph.json",
  users: [{ name: "alice", upn: "alice@lab.example.com", password: "pw-alice" }],
  mfaApprovalSeconds: 20,
  graph: {
    url: "https://127.0.0.1:40001/v1.0",
    authority: "https://127.0.0.1:40001",
    clientId: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    clientSecret: "graph'secret$(x)",
  },
  hosts: [
    {
      name: "nps01",
      role: "nps",
      winrmUrl: "https://127.0.0.1:40002/wsman",
      winrmHttpUrl: "http://127.0.0.1:40102/wsman",
      username: "labadmin",
      password: "pw-nps01",
      stateFile: "/tmp/lab/nps01.json",
    },
    {
      name: "nps02",
      role: "nps",
      winrmUrl: "https://127.0.0.1:40003/wsman",
      winrmHttpUrl: "http://127.0.0.1:40103/wsman",
      username: "labadmin",
      password: "pw-nps02",
      stateFile: "/tmp/lab/nps02.json",
    },
    {
      name: "vpn01",
      role: "vpn",
      winrmUrl: "https://127.0.0.1:40004/wsman",
      winrmHttpUrl: "http://127.0.0.1:40104/wsman",
      username: "labadmin",
      password: "pw-vpn01",
      stateFile: "/tmp/lab/vpn01.json",
    },
  ],
};

describe("lab stack files", () => {
  it("writes a Pulumi.lab.yaml that, with the secrets added, is a valid stack and holds no secret", () => {
    const text = pulumiLabYaml(lab);
    for (const secret of ["pw-nps01", "pw-nps02", "pw-vpn01", "graph'secret"])
      assert.ok(!text.includes(secret));
    const config = (yaml.load(text) as { config: Record<string, unknown> }).config;
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
      values[key.replace("npsmfa:", "")] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const nps = JSON.parse(values.npsServers);
    nps.forEach(
      (server: { winrm: Record<string, string> }, index: number) =>
        (server.winrm.password = lab.hosts[index].password),
    );
    const vpn = JSON.parse(values.vpnServers);
    vpn[0].winrm.password = "pw-vpn01";
    const graph = { ...JSON.parse(values.graph), clientSecret: lab.graph.clientSecret };
    const parsed = parseStackConfig({
      values: {
        ...values,
        npsServers: JSON.stringify(nps),
        vpnServers: JSON.stringify(vpn),
        graph: JSON.stringify(graph),
      },
      secretKeys: ["npsServers", "vpnServers", "graph"],
    });
    assert.deepEqual(parsed.vpnServers[0].npsServers, ["nps01", "nps02"]);
    assert.equal(parsed.npsServers[1].winrm.url, "https://127.0.0.1:40003/wsman");
  });

  it("writes a secrets script that passes every value to pulumi literally", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-secrets-"));
    // A stand-in `pulumi` on PATH that records its arguments, one per line.
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> ${dir}/calls\n`,
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(dir, "set-lab-secrets.sh"), setSecretsScript(lab, dir));
    execFileSync("sh", [path.join(dir, "set-lab-secrets.sh")], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").split("\n");
    assert.deepEqual(calls.slice(0, 7), [
      "config",
      "set",
      "--secret",
      "-s",
      "lab",
      "--path",
      "npsServers[0].winrm.password",
    ]);
    assert.ok(calls.includes("vpnServers[0].winrm.password"));
    assert.ok(
      calls.includes("graph'secret$(x)"),
      "the client secret arrives literally, quotes and $(...) included",
    );
  });

  it("reads lab.json, fills the UPN of a lab written before UPNs, and names a missing field with the fix", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-labjson-"));
    try {
      const file = path.join(dir, "lab.json");
      const { upn: _upn, ...older } = lab.users[0];
      fs.writeFileSync(file, JSON.stringify({ ...lab, users: [older] }));
      assert.deepEqual(readLabDescription(file)?.users, lab.users);
      const { hosts: _hosts, ...withoutHosts } = lab;
      fs.writeFileSync(file, JSON.stringify(withoutHosts));
      assert.throws(
        () => readLabDescription(file),
        (error: Error) =>
          error.message.startsWith(
            `${file}: expected the lab description that npm run lab writes, found JSON ` +
              'without a valid "hosts"',
          ) && error.message.endsWith(`npm run lab -- --dir '${dir}' --seed article`),
      );
      assert.equal(readLabDescription(path.join(dir, "none.json")), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lab arguments: --help, a missing --dir and a bad count are usage errors that name the option", () => {
    assert.equal(parseLabArguments(["--help"]), undefined);
    assert.throws(
      () => parseLabArguments(["--nps", "1"]),
      (error: Error) =>
        error instanceof UsageError &&
        error.message === "expected --dir <folder> for the lab's state, found nothing",
    );
    assert.throws(
      () => parseLabArguments(["--dir", "x", "--vpn", "100"]),
      /^Error: expected --vpn to be a whole number from 0 to 99, found "100"$/,
    );
    assert.throws(() => parseLabArguments(["--dir"]), /--dir/);
  });

  it("lab arguments: --extension-version takes a four-part version or none", () => {
    assert.equal(parseLabArguments(["--dir", "x"])?.extensionVersion, undefined);
    assert.equal(
      parseLabArguments(["--dir", "x", "--extension-version", "1.2.2677.2"])?.extensionVersion,
      "1.2.2677.2",
    );
    assert.equal(parseLabArguments(["--dir", "x", "--extension-version", "none"])?.extensionVersion, "none");
    assert.throws(
      () => parseLabArguments(["--dir", "x", "--extension-version", "latest"]),
      /^Error: expected --extension-version to be a version such as 1\.2\.2893\.1, or none, found "latest"$/,
    );
  });

  it("the start-up text offers the dial and the doctor, --user for a user seed, and no pulumi up it cannot keep", () => {
    const user = lab.users[0];
    const article = nextSteps(".lab", ".", { vpn: "vpn01", user });
    assert.match(article, /npm run lab -- dial vpn01 alice --dir '\.lab'/);
    assert.match(article, /npm run doctor -- --lab '\.lab' {3}#/);
    assert.match(article, /pulumi up --refresh -s lab/);
    const userSeed = nextSteps(".lab", ".", { vpn: "vpn01", user, userSeed: true, pulumiRepairs: false });
    assert.match(userSeed, /npm run doctor -- --lab '\.lab' --user alice@lab\.example\.com/);
    assert.doesNotMatch(userSeed, /pulumi/);
  });
});
