// The README's configuration reference, generated from the zod schema so it cannot drift from the code:
// every setting's type, default and bounds come from the schema; only the prose lives here, and
// tests/config/reference.test.ts fails when a setting has no prose or prose names no setting.
import { configNamespace, stackConfigJsonSchema } from "./schema";

export const settingDescriptions: Record<string, string> = {
  tenantId:
    "Entra tenant (directory) ID. Also the NPS certificate's subject: `CN=<tenantId>, OU=Microsoft NPS Extension`.",
  cloud:
    "Microsoft cloud of the tenant; selects the Graph, login and MFA endpoints written to the extension.",
  npsServers: "NPS servers running the Entra MFA NPS extension.",
  "npsServers[].hostname": "The server's DNS name; the RADIUS server name VPN servers use for it.",
  "npsServers[].winrm": "How to reach the server over WinRM (see `winrm.*` below).",
  "npsServers[].certificateRenewalDays":
    "Renew the server's NPS certificate this many days before it expires.",
  vpnServers: "VPN (RRAS) servers that send RADIUS to the NPS servers.",
  "vpnServers[].hostname": "The server's DNS name.",
  "vpnServers[].winrm": "How to reach the server over WinRM (see `winrm.*` below).",
  "vpnServers[].npsServers": "Host names of the NPS servers this server sends RADIUS authentication to.",
  "vpnServers[].radiusTimeoutSeconds":
    "RADIUS timeout for each of those NPS servers. MFA waits for a person: at least 60 s, 90-120 s recommended.",
  radiusProxies:
    "NPS servers without the extension that forward RADIUS (remote RADIUS server groups) to the NPS servers.",
  "radiusProxies[].hostname":
    "The proxy's DNS name. Never one of `npsServers`: an extension NPS cannot forward.",
  "radiusProxies[].winrm": "How to reach the server over WinRM (see `winrm.*` below).",
  "radiusProxies[].radiusTimeoutSeconds":
    "Timeout of each server in its remote RADIUS server groups; like the VPN servers', at least 60 s. Each server's blackout (seconds between requests once it is unavailable) is raised to at least its timeout, and IAS is reset so it forwards with them.",
  "winrm.url":
    "WS-Management endpoint, `https://<host>:5986/wsman`, or `http://<host>:5985/wsman` with `ntlm` (every message encrypted).",
  "winrm.auth": "`ntlm` (domain account), `basic` (local account, HTTPS only) or `certificate`.",
  "winrm.username": "Account for `ntlm` (`DOMAIN\\user`) or `basic`.",
  "winrm.password": "Secret. Set with `pulumi config set --secret --path '<list>[<n>].winrm.password'`.",
  "winrm.caFile": "PEM file of the CA that issued the listener's certificate (default: the system's CAs).",
  "winrm.thumbprint": "Pin the listener's certificate by SHA-1 or SHA-256 thumbprint instead of a CA.",
  "winrm.clientCertFile": "PEM client certificate, for `certificate` authentication.",
  "winrm.clientKeyFile": "PEM private key of that certificate, for `certificate` authentication.",
  "winrm.operationTimeoutSeconds": "How long one WinRM command may run before it is abandoned.",
  extension:
    "Optional NPS extension settings. One left out is not managed: its registry value is left alone.",
  "extension.requireUserMatch": "`REQUIRE_USER_MATCH`: false lets users without MFA registration through.",
  "extension.overrideNumberMatchingWithOtp":
    "`OVERRIDE_NUMBER_MATCHING_WITH_OTP` (extension 1.2.2216.1 and later). `false`: users get Approve/Deny on the Authenticator instead of a code prompt, which MS-CHAPv2 and EAP cannot carry (Learn's VPN page asks for it). `true`: users with a TOTP method (Authenticator codes, an OATH token) are asked for a code, which works over PAP only. Default: `false`, unless `radiusAuthentication` is `pap` (then not managed). Changing it restarts IAS.",
  "extension.minimumVersion":
    "The oldest NPS extension version accepted on the NPS servers (at least 1.2.2893.1, which reads the thumbprint npsmfa pins). An older server shows as drift on `<nps>-extension` and `up` refuses to change it, unless `installer` is declared: then `up` upgrades it. The doctor's `extension-version` fails below it.",
  "extension.installer":
    "Optional. The extension's installer for `up` to install or upgrade with: each NPS server below `minimumVersion` (or without the extension) fetches it, checks its SHA-256, uninstalls the old version, installs silently and restarts IAS, one server at a time, each health-checked before the next. Without it the version is only read and reported.",
  "extension.installer.source":
    "Where the NPS servers fetch `NpsExtnForAzureMfaInstaller.exe`: an `https://` URL, a UNC path (`\\\\files\\share\\...`) the servers' computer accounts can read, or a local path. Microsoft publishes no stable download link: download it once, test it, and host it yourself. A URL's query (a storage SAS token) is hidden in messages, and the installer is then kept secret in the stack's state.",
  "extension.installer.sha256":
    "The installer's SHA-256 (`Get-FileHash -Algorithm SHA256`). A server whose fetched file has another hash runs nothing, and the rollout stops there.",
  "extension.ipWhitelist": "`IP_WHITELIST`: RADIUS client IPv4 addresses that skip MFA.",
  radiusAuthentication:
    "The authentication method the NPS servers' network policy allows: `mschapv2` or `eap` (Windows' VPN client; what is assumed when unset), or `pap` (a RADIUS client that can send a TOTP code). Decides the default of `extension.overrideNumberMatchingWithOtp`.",
  iasHealthCheckSeconds:
    "How long IAS must stay healthy after each restart (running, listening on UDP 1812, no new AuthZ errors, a token acquired as the extension does) before the next NPS server's work starts. Default 10.",
  graph: "Optional Microsoft Graph sign-in overrides; by default the Azure SDK's usual sign-in is used.",
  "graph.endpoint": "Graph root including the version (default: the cloud's, with `/v1.0`).",
  "graph.authorityHost": "Entra authority (default: the cloud's login host).",
  "graph.clientId": "Application (client) ID to sign in as, with `clientSecret`.",
  "graph.clientSecret":
    "Secret. The application's client secret; set with `pulumi config set --secret --path`.",
  "graph.caFile": "PEM CA file to trust for Graph and the authority (a lab or a TLS-inspecting proxy).",
  tenantOnly:
    "Set to true for a stack that manages only the tenant's MFA service principals: without it, a stack with no `npsServers` and no `vpnServers` is refused (a misspelt list would otherwise stop managing every server).",
};

interface JsonSchemaNode {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  required?: string[];
}

export interface SettingRow {
  path: string;
  type: string;
  required: boolean;
  defaultValue?: unknown;
}

/** Every setting in the schema, with the shared WinRM endpoint listed once under `winrm.*`. */
export function settingRows(): SettingRow[] {
  const rows = new Map<string, SettingRow>();
  const visit = (node: JsonSchemaNode, path: string, required: boolean) => {
    if (path !== "") rows.set(path, { path, type: typeName(node), required, defaultValue: node.default });
    const objectNode = node.type === "array" && node.items?.type === "object" ? node.items : node;
    const prefix = node.type === "array" ? `${path}[]` : path;
    for (const [key, child] of Object.entries(objectNode.properties ?? {})) {
      const childPath = key === "winrm" ? "winrm" : prefix === "" ? key : `${prefix}.${key}`;
      visit(child, childPath, (objectNode.required ?? []).includes(key) && !("default" in child));
      if (key === "winrm")
        rows.set(`${prefix}.winrm`, { path: `${prefix}.winrm`, type: "map", required: true });
    }
  };
  visit(stackConfigJsonSchema() as JsonSchemaNode, "", true);
  rows.delete("winrm");
  const all = [...rows.values()];
  const isEndpoint = (row: SettingRow) => row.path.startsWith("winrm.");
  return [...all.filter((row) => !isEndpoint(row)), ...all.filter(isEndpoint)];
}

function typeName(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((value) => `\`${String(value)}\``).join(" \\| ");
  const bounds = [
    node.minimum !== undefined ? `≥ ${node.minimum}` : "",
    node.maximum !== undefined ? `≤ ${node.maximum}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  if (node.type === "array") return `list of ${node.items ? typeName(node.items) : "values"}`;
  if (node.type === "object") return "map";
  return `${node.type ?? "any"}${bounds ? ` (${bounds})` : ""}`;
}

export const referenceStart = "<!-- config-reference:start (generated by `npm run docs:config`) -->";
export const referenceEnd = "<!-- config-reference:end -->";

export function configReferenceMarkdown(): string {
  const lines = [
    `Settings live under the \`${configNamespace}:\` namespace (\`pulumi config set ${configNamespace}:tenantId ...\`).`,
    "Lists and maps are YAML in `Pulumi.<stack>.yaml`; `winrm.*` applies to every server entry.",
    "",
    "| Setting | Type | Required | Default | Meaning |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const row of settingRows()) {
    const defaultText = row.defaultValue === undefined ? "" : `\`${JSON.stringify(row.defaultValue)}\``;
    const description = settingDescriptions[row.path] ?? "";
    lines.push(
      `| \`${row.path}\` | ${row.type} | ${row.required ? "yes" : "no"} | ${defaultText} | ${description} |`,
    );
  }
  return [referenceStart, ...lines, referenceEnd].join("\n");
}
