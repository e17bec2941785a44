// Hostile strings in every string setting: the schema refuses them with a message naming the setting,
// or keeps them literally; and data that does reach a host script (as base64 JSON) is stored as text,
// never run: a marker file that each payload would create must not appear.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, parseStackConfig, StackConfig } from "../../config/schema";
import { settingRows } from "../../config/reference";
import { articleNpsHost, azureMfaKey, readHostState, writeHostState } from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";
import { runHostScript } from "../../remote/hostScripts";
import { count } from "./tally";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** Payloads that would create `marker` if any layer (cmd.exe, PowerShell, a string expansion) ran them. */
function hostileStrings(marker: string): string[] {
  const create = `New-Item -ItemType File -Force -Path '${marker}'`;
  return [
    `$(${create})`,
    `'; ${create}; '`,
    `"; ${create}; "`,
    `\`n${create}`,
    `\n${create}\n`,
    `@(${create})`,
    `& cmd /c "type nul > ${marker}"`,
    `nps01.corp.example.com; ${create}`,
    `nps01 | ${create}`,
    `\${env:COMPUTERNAME}$(${create})`,
    `]]></s:Body><rsp:Command>${create}</rsp:Command>`,
    `\u202e${create}\u0000`,
    `${"A".repeat(5000)}$(${create})`,
  ];
}

const validServer = (host: string) => ({
  hostname: host,
  winrm: { url: `https://${host}:5986/wsman`, username: "CORP\\svc", password: "pw" },
});

const validInstaller = {
  source: "\\\\files\\npsmfa\\NpsExtnForAzureMfaInstaller.exe",
  sha256: "ab".repeat(32),
};

/** A valid stack with one setting replaced, by its reference path (`npsServers[].hostname`, `winrm.url`, ...). */
function stackWith(settingPath: string, value: string): Record<string, unknown> {
  const stack: Record<string, unknown> = {
    tenantId,
    npsServers: [validServer("nps01.corp.example.com")],
    vpnServers: [{ ...validServer("vpn01.corp.example.com"), npsServers: ["nps01.corp.example.com"] }],
    radiusProxies: [validServer("proxy01.corp.example.com")],
    extension: {},
    graph: { clientId: "0a1b2c3d-0000-4000-8000-000000000001" },
  };
  const npsServer = (stack.npsServers as Record<string, unknown>[])[0];
  const vpnServer = (stack.vpnServers as Record<string, unknown>[])[0];
  const proxy = (stack.radiusProxies as Record<string, unknown>[])[0];
  const [head, ...rest] = settingPath.replace(/\[\]/g, "").split(".");
  if (head === "winrm") (npsServer.winrm as Record<string, unknown>)[rest[0]] = value;
  else if (head === "npsServers" && rest.length > 0) npsServer[rest[0]] = value;
  else if (head === "vpnServers" && rest[0] === "npsServers") vpnServer.npsServers = [value];
  else if (head === "vpnServers") vpnServer[rest[0]] = value;
  else if (head === "radiusProxies") proxy[rest[0]] = value;
  else if (head === "extension" && rest[0] === "ipWhitelist") stack.extension = { ipWhitelist: [value] };
  else if (head === "extension" && rest[0] === "installer")
    stack.extension = { installer: { ...validInstaller, [rest[1]]: value } };
  else if (rest.length > 0) (stack[head] as Record<string, unknown>)[rest[0]] = value;
  else stack[head] = value;
  return stack;
}

function parse(stack: Record<string, unknown>): StackConfig {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(stack)) {
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return parseStackConfig({
    values,
    secretKeys: ["npsServers", "vpnServers", "radiusProxies", "graph"],
    readFile: () => {
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    },
  });
}

/** Where the parsed value of a setting lives, to check it was kept literally. */
function parsedValue(config: StackConfig, settingPath: string): unknown {
  const [head, ...rest] = settingPath.replace(/\[\]/g, "").split(".");
  if (head === "winrm") return (config.npsServers[0].winrm as Record<string, unknown>)[rest[0]];
  if (head === "npsServers") return (config.npsServers[0] as Record<string, unknown>)[rest[0]];
  if (head === "vpnServers" && rest[0] === "npsServers") return config.vpnServers[0].npsServers[0];
  if (head === "vpnServers") return (config.vpnServers[0] as Record<string, unknown>)[rest[0]];
  if (head === "radiusProxies") return (config.radiusProxies[0] as Record<string, unknown>)[rest[0]];
  if (head === "extension" && rest[0] === "installer")
    return (config.extension.installer as Record<string, unknown> | undefined)?.[rest[1]];
  if (head === "extension") return config.extension.ipWhitelist?.[0];
  if (rest.length > 0) return (config[head as keyof StackConfig] as Record<string, unknown>)[rest[0]];
  return config[head as keyof StackConfig];
}

describe("hostile strings in every string setting", function () {
  this.timeout(180_000);
  const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-hostile-")), "pwned");

  it("are refused naming the setting, or kept exactly as written", () => {
    const stringSettings = settingRows()
      .filter((row) => row.type === "string" || row.type === "list of string" || row.type.includes("|"))
      .map((row) => row.path);
    assert.ok(stringSettings.length >= 15, `string settings found: ${stringSettings.join(", ")}`);
    let refused = 0;
    let literal = 0;
    const altered: string[] = [];
    for (const setting of stringSettings) {
      for (const hostile of hostileStrings(marker)) {
        try {
          const config = parse(stackWith(setting, hostile));
          if (parsedValue(config, setting) === hostile) literal++;
          else altered.push(`${setting}: ${JSON.stringify(hostile).slice(0, 60)}`);
        } catch (error) {
          assert.ok(error instanceof ConfigError, `${setting}: ${String(error)}`);
          const leaf = setting.split(/\.|\[\]\./).pop()!;
          assert.ok(
            error.problems.some((problem) => problem.includes(leaf)),
            `${setting}: the refusal names the setting: ${error.message.slice(0, 400)}`,
          );
          refused++;
        }
      }
    }
    count({ badConfigsAccepted: altered.length });
    assert.deepEqual(altered, [], "a value the schema accepts is kept exactly as written");
    assert.ok(refused > 0 && refused + literal === stringSettings.length * hostileStrings(marker).length);
  });

  it("reach a host script as data: stored literally in the registry, never run", async () => {
    const hostname = "nps01.lab.test";
    const stateFile = path.join(path.dirname(marker), "nps01.json");
    writeHostState(stateFile, articleNpsHost(hostname, tenantId));
    const payloads = hostileStrings(marker);
    const settings = Object.fromEntries(
      payloads.map((payload, index) => [`NPSMFA_HOSTILE_${index}`, payload]),
    );
    await runHostScript(labHostRunner(hostname, stateFile), hostname, "NpsExtensionSettings", {
      mode: "set",
      settings,
    });
    const stored = readHostState(stateFile).registry[azureMfaKey];
    const notLiteral = Object.entries(settings).filter(([name, value]) => stored[name] !== value);
    const executed = fs.existsSync(marker) ? 1 : 0;
    count({ injectionsExecuted: executed });
    assert.equal(executed, 0, `a payload ran on the host: ${marker} exists`);
    assert.deepEqual(
      notLiteral.map(([name]) => name),
      [],
      "every payload is stored as the text it was",
    );
  });
});
