// The stack configuration: one zod schema, and the pure function that turns raw Pulumi config
// into a validated StackConfig or one error that lists every problem at once.
import { isIP } from "node:net";
import { RunError } from "@pulumi/pulumi/errors";
import { z } from "zod";
import { cloudNames } from "./clouds";
import { atLeast, clientCertIdentifierMinimumVersion } from "./extensionVersions";
import { FileReader, fileSettingProblems } from "./files";
import {
  ConfigKey,
  configDefaults,
  configKeys,
  configNamespace,
  radiusAuthenticationProtocols,
} from "./keys";
import { unknownKeyMessage } from "./unknownKeys";

export { ConfigKey, configKeys, configNamespace };

export const minimumRadiusTimeoutSeconds = 60;
const maximumRadiusTimeoutSeconds = 600;
/** The setup script's NPS certificates are valid for two years (Learn: howto-mfa-nps-extension, certificate rollover). */
const certificateValidityDays = 730;

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// RFC 1123 host name (which also admits dotted IPv4 addresses): labels of 1-63 letters, digits, hyphens.
const hostnamePattern =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const thumbprintPattern = /^([0-9a-f]{40}|[0-9a-f]{64})$/i;

/** A URL's host as WHATWG URL gives it: a DNS name, an IPv4 address, or an IPv6 address in brackets. */
function isHostOrAddress(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return isIP(host.slice(1, -1)) === 6;
  return hostnamePattern.test(host);
}

const radiusTimeoutWhy =
  "MFA waits for a person to approve the sign-in on a phone; Microsoft asks for at least 60 s (90-120 s avoids " +
  "duplicate requests). With a shorter timeout the VPN client fails with 'the port used for this connection was " +
  "closed' (RasClient event 20227 on the client) before the user can answer.";

/** Describes a value for an error message without ever echoing a secret. */
export function describeFound(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return value === "" ? "an empty string" : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return "an object";
}

/** zod error callback: "expected X, found Y[. why]". */
function expected(what: string, why?: string) {
  return (issue: { input?: unknown }) =>
    `expected ${what}, found ${describeFound(issue.input)}${why ? `. ${why}` : ""}`;
}

const hostname = z.string({ error: expected("a host name") }).regex(hostnamePattern, {
  error: expected("a DNS host name such as nps01.corp.example.com (letters, digits, hyphens and dots)"),
});

const secretText = (what: string) =>
  z
    .string({ error: (issue) => `expected ${what} as text, found a ${typeof issue.input}` })
    .min(1, { error: `expected ${what}, found an empty string` });

export const winrmAuthKinds = ["ntlm", "basic", "certificate"] as const;

const winrmEndpointSchema = z
  .object({
    url: z
      .string({ error: expected("a WinRM URL such as https://nps01.corp.example.com:5986/wsman") })
      .refine((text) => /^https?:\/\/[^/]+/i.test(text) && URL.canParse(text), {
        error: expected("a WinRM URL such as https://nps01.corp.example.com:5986/wsman"),
      })
      // URL parsing silently drops tabs and line breaks (WHATWG URL): "https://a\r:5986" would reach host "a".
      .refine(
        (text) => ![...text].some((char) => /\s/.test(char) || char.charCodeAt(0) < 32 || char === "\u007f"),
        {
          error: expected("a WinRM URL without spaces, tabs, line breaks or control characters"),
        },
      )
      // A user or password in the URL would travel into state and logs; a fragment hides the rest of it.
      .refine((text) => !/[@#]/.test(text), {
        error: expected("a WinRM URL without a user name (@) or a fragment (#)"),
      })
      .refine((text) => !URL.canParse(text) || isHostOrAddress(new URL(text).hostname), {
        error: expected(
          "a WinRM URL whose host is a DNS name or an IP address, such as https://nps01.corp.example.com:5986/wsman",
        ),
      }),
    auth: z
      .enum(winrmAuthKinds, { error: expected(`one of ${winrmAuthKinds.join(", ")}`) })
      .default(configDefaults.winrmAuth),
    username: z
      .string({ error: expected("a user name such as CORP\\svc-npsmfa") })
      .min(1)
      .optional(),
    password: secretText("the WinRM password").optional(),
    caFile: z
      .string({ error: expected("the path of a PEM CA certificate file") })
      .min(1)
      .optional(),
    thumbprint: z
      .string({ error: expected("a certificate thumbprint") })
      .transform((text) => text.replace(/[\s:]/g, "").toUpperCase())
      .refine((text) => thumbprintPattern.test(text), {
        error: expected("a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) certificate thumbprint"),
      })
      .optional(),
    clientCertFile: z
      .string({ error: expected("the path of a PEM client certificate") })
      .min(1)
      .optional(),
    clientKeyFile: z
      .string({ error: expected("the path of a PEM private key") })
      .min(1)
      .optional(),
    operationTimeoutSeconds: z
      .number({ error: expected("a whole number of seconds") })
      .int({ error: expected("a whole number of seconds") })
      .min(5, { error: expected("at least 5 seconds") })
      .max(3600, { error: expected("at most 3600 seconds") })
      .default(configDefaults.winrmOperationTimeoutSeconds),
  })
  .strict()
  .superRefine((endpoint, ctx) => {
    const plainHttp = endpoint.url.toLowerCase().startsWith("http:");
    if (plainHttp && endpoint.auth === "basic") {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message:
          `expected an https:// URL for Basic authentication, found ${JSON.stringify(endpoint.url)}. ` +
          "Basic over plain HTTP sends the password readable to anyone on the network: configure a WinRM HTTPS " +
          "listener (port 5986) and use https://.",
      });
    } else if (plainHttp && endpoint.auth !== "ntlm") {
      // Over http only NTLM can encrypt each message (MS-WSMV 2.2.9.1); a client certificate needs TLS.
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message:
          `expected an https:// URL for ${endpoint.auth} authentication, found ${JSON.stringify(endpoint.url)}. ` +
          "Plain HTTP is encrypted only with auth ntlm (http://<host>:5985/wsman); client certificates need the " +
          "WinRM HTTPS listener (port 5986).",
      });
    }
    if (endpoint.auth === "certificate") {
      for (const key of ["clientCertFile", "clientKeyFile"] as const) {
        if (!endpoint[key]) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `expected a file path for certificate authentication, found nothing`,
          });
        }
      }
      return;
    }
    if (!endpoint.username) {
      ctx.addIssue({
        code: "custom",
        path: ["username"],
        message: `expected a user name for ${endpoint.auth} authentication, found nothing`,
      });
    }
    if (endpoint.password === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["password"],
        message:
          `expected the WinRM password for ${endpoint.auth} authentication, found nothing. ` +
          "Set it as a secret: pulumi config set --secret --path '{path}' <password>",
      });
    }
  });

const npsServerSchema = z
  .object({
    hostname,
    winrm: winrmEndpointSchema,
    certificateRenewalDays: z
      .number({ error: expected("a whole number of days") })
      .int({ error: expected("a whole number of days") })
      .min(1, { error: expected("at least 1 day") })
      .max(certificateValidityDays - 1, {
        error: expected(
          `fewer than ${certificateValidityDays} days`,
          "NPS certificates are valid for two years, so a longer window would renew on every run",
        ),
      })
      .default(configDefaults.certificateRenewalDays),
  })
  .strict();

const radiusTimeoutSeconds = z
  .number({ error: expected("a whole number of seconds") })
  .int({ error: expected("a whole number of seconds") })
  .min(minimumRadiusTimeoutSeconds, {
    error: expected(`at least ${minimumRadiusTimeoutSeconds} seconds`, radiusTimeoutWhy),
  })
  .max(maximumRadiusTimeoutSeconds, { error: expected(`at most ${maximumRadiusTimeoutSeconds} seconds`) })
  .default(configDefaults.radiusTimeoutSeconds);

const vpnServerSchema = z
  .object({
    hostname,
    winrm: winrmEndpointSchema,
    npsServers: z.array(hostname, { error: expected("a list of NPS host names") }).min(1, {
      error: expected("at least one NPS server this VPN server sends RADIUS to"),
    }),
    radiusTimeoutSeconds,
  })
  .strict();

// An NPS server that forwards RADIUS (remote RADIUS server groups) to the extension NPS servers. Its own role:
// Microsoft documents that an NPS running the MFA extension cannot also forward to a remote server.
const radiusProxySchema = z.object({ hostname, winrm: winrmEndpointSchema, radiusTimeoutSeconds }).strict();

/** A dotted file version as Windows shows it (1.2.2893.1); two to four parts. */
const versionPattern = /^\d+(\.\d+){1,3}$/;

const sha256Pattern = /^[0-9a-f]{64}$/i;

/** An installer source as messages show it: a URL's query (a storage SAS token, say) hidden. */
export function shownInstallerSource(source: string): string {
  return source.replace(/\?.*$/s, "?<query hidden>");
}

/**
 * Where the NPS servers fetch the extension's installer: an HTTPS URL, a UNC path (\\server\share\...) or a
 * local path (C:\...), naming an .exe. Plain HTTP is refused: the hash check would catch a swapped file, but
 * only after the download, and Microsoft's own download is HTTPS.
 */
export function installerSourceProblem(source: string): string | undefined {
  const exe = /\.exe$/i;
  if (/^https:\/\//i.test(source)) {
    if (!URL.canParse(source)) return "a valid https:// URL";
    return exe.test(new URL(source).pathname) ? undefined : "a URL whose path names the installer's .exe";
  }
  if (/^(\\\\[^\\/]+\\[^\\/]+\\|[A-Za-z]:\\)[^/]*$/.test(source)) {
    return exe.test(source) ? undefined : "a path that names the installer's .exe";
  }
  return "an https:// URL, a UNC path such as \\\\files\\share\\NpsExtnForAzureMfaInstaller.exe or a local path such as C:\\Installers\\NpsExtnForAzureMfaInstaller.exe";
}

const installerSchema = z
  .object(
    {
      source: z
        .string({ error: expected("where the NPS servers fetch NpsExtnForAzureMfaInstaller.exe") })
        .superRefine((source, context) => {
          const problem = installerSourceProblem(source);
          if (problem)
            context.addIssue({
              code: "custom",
              message: `expected ${problem}, found ${describeFound(shownInstallerSource(source))}`,
            });
        }),
      sha256: z.string({ error: expected("the installer's SHA-256 as 64 hex digits") }).regex(sha256Pattern, {
        error: expected(
          "the installer's SHA-256 as 64 hex digits",
          "Get-FileHash -Algorithm SHA256 on the file you tested prints it",
        ),
      }),
    },
    { error: expected("an object with source and sha256") },
  )
  .strict();

const extensionSchema = z
  .object({
    requireUserMatch: z.boolean({ error: expected("true or false") }).optional(),
    overrideNumberMatchingWithOtp: z.boolean({ error: expected("true or false") }).optional(),
    minimumVersion: z
      .string({ error: expected("an extension version such as 1.2.2893.1") })
      .regex(versionPattern, { error: expected("an extension version such as 1.2.2893.1") })
      .refine(
        (version) => !versionPattern.test(version) || atLeast(version, clientCertIdentifierMinimumVersion),
        {
          error: expected(
            `${clientCertIdentifierMinimumVersion} or later`,
            "npsmfa pins each server's certificate by thumbprint in CLIENT_CERT_IDENTIFIER, which older extensions ignore",
          ),
        },
      )
      .optional(),
    installer: installerSchema.optional(),
    ipWhitelist: z
      .array(
        z.string({ error: expected("an IPv4 address") }).regex(ipv4Pattern, {
          error: expected(
            "an IPv4 address such as 10.0.0.5 (the extension skips MFA for these RADIUS clients)",
          ),
        }),
        { error: expected("a list of IPv4 addresses") },
      )
      .optional(),
  })
  .strict();

const graphSchema = z
  .object({
    endpoint: z
      .string({ error: expected("a Graph URL such as https://graph.microsoft.com/v1.0") })
      .refine((text) => /^https:\/\//i.test(text) && URL.canParse(text), {
        error: expected(
          "an https:// Graph URL ending in the version, such as https://graph.microsoft.com/v1.0",
        ),
      })
      .optional(),
    authorityHost: z
      .string({ error: expected("an https:// authority such as https://login.microsoftonline.com") })
      .refine((text) => /^https:\/\//i.test(text) && URL.canParse(text), {
        error: expected("an https:// authority such as https://login.microsoftonline.com"),
      })
      .optional(),
    clientId: z
      .string({ error: expected("an application (client) ID GUID") })
      .regex(guidPattern, { error: expected("an application (client) ID GUID") })
      .optional(),
    clientSecret: secretText("the client secret").optional(),
    caFile: z
      .string({ error: expected("the path of a PEM CA certificate file") })
      .min(1)
      .optional(),
  })
  .strict()
  .superRefine((graph, ctx) => {
    if (graph.clientSecret !== undefined && graph.clientId === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["clientId"],
        message: "expected the application (client) ID that the client secret belongs to, found nothing",
      });
    }
  });

const stackConfigSchema = z
  .object({
    tenantId: z.string({ error: expected("the Entra tenant ID, a GUID") }).regex(guidPattern, {
      error: expected("the Entra tenant ID, a GUID such as aaaabbbb-0000-cccc-1111-dddd2222eeee"),
    }),
    cloud: z
      .enum(cloudNames, { error: expected(`one of ${cloudNames.join(", ")}`) })
      .default(configDefaults.cloud),
    npsServers: z.array(npsServerSchema, { error: expected("a list of NPS servers") }).default([]),
    vpnServers: z.array(vpnServerSchema, { error: expected("a list of VPN (RRAS) servers") }).default([]),
    radiusProxies: z
      .array(radiusProxySchema, { error: expected("a list of RADIUS proxy NPS servers") })
      .default([]),
    extension: extensionSchema.default({}),
    radiusAuthentication: z
      .enum(radiusAuthenticationProtocols, {
        error: expected(
          `one of ${radiusAuthenticationProtocols.join(", ")} (the authentication method the NPS servers' network policy allows)`,
        ),
      })
      .optional(),
    iasHealthCheckSeconds: z
      .number({ error: expected("a whole number of seconds") })
      .int({ error: expected("a whole number of seconds") })
      .min(0, { error: expected("0 seconds or more") })
      .max(300, { error: expected("at most 300 seconds") })
      .default(configDefaults.iasHealthCheckSeconds),
    graph: graphSchema.default({}),
    tenantOnly: z.boolean({ error: expected("true or false") }).default(false),
  })
  .strict();

const serverLists = ["npsServers", "vpnServers", "radiusProxies"] as const;
type ServerList = (typeof serverLists)[number];

/**
 * Checks across servers, run on the raw input so they are reported even when a server has other
 * problems: the admin gets the whole list in one run.
 */
function crossServerProblems(input: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const hostnamesOf = (list: ServerList) => {
    const servers = input[list];
    if (!Array.isArray(servers)) return [];
    return servers.map((server) =>
      typeof server?.hostname === "string" ? (server.hostname as string) : undefined,
    );
  };
  for (const list of serverLists) {
    const seen = new Map<string, number>();
    hostnamesOf(list).forEach((name, index) => {
      if (name === undefined) return;
      const first = seen.get(name.toLowerCase());
      if (first === undefined) {
        seen.set(name.toLowerCase(), index);
        return;
      }
      problems.push(
        `${configNamespace}:${list}[${index}].hostname: expected each host once, found ` +
          `${JSON.stringify(name)} again (also ${list}[${first}]). Two entries would fight over one server`,
      );
    });
  }
  const npsNames = hostnamesOf("npsServers").filter((name): name is string => name !== undefined);
  const known = new Set(npsNames.map((name) => name.toLowerCase()));
  hostnamesOf("radiusProxies").forEach((name, index) => {
    if (name === undefined || !known.has(name.toLowerCase())) return;
    problems.push(
      `${configNamespace}:radiusProxies[${index}].hostname: expected an NPS server without the MFA extension, found ` +
        `${JSON.stringify(name)}, which is also in ${configNamespace}:npsServers. An NPS server running the extension ` +
        "cannot forward RADIUS to another server (Microsoft Learn, howto-mfa-nps-extension): make the proxy a " +
        "separate NPS server that forwards to the extension servers",
    );
  });
  const vpnServers = Array.isArray(input.vpnServers) ? input.vpnServers : [];
  vpnServers.forEach((vpn, vpnIndex) => {
    const targets: unknown = vpn?.npsServers;
    if (!Array.isArray(targets)) return;
    targets.forEach((nps, npsIndex) => {
      if (typeof nps !== "string" || known.has(nps.toLowerCase())) return;
      const host = typeof vpn?.hostname === "string" ? ` (host ${vpn.hostname})` : "";
      problems.push(
        `${configNamespace}:vpnServers[${vpnIndex}].npsServers[${npsIndex}]${host}: expected one of the ` +
          `configured NPS servers (${npsNames.join(", ") || "none configured"}), found ${JSON.stringify(nps)}. ` +
          `Add it to ${configNamespace}:npsServers so its MFA extension is managed too`,
      );
    });
  });
  return problems;
}

/**
 * A stack with no servers stops managing every server it managed before: almost always a misspelt or
 * missing list. A stack that manages only the tenant says so.
 */
function serverPresenceProblems(input: Record<string, unknown>, unparsed: ReadonlySet<string>): string[] {
  // A list that is there but wrong (not YAML, not a list) has its own problem; only an absent or empty one counts.
  const listed = (list: string) =>
    unparsed.has(list) ||
    (input[list] !== undefined && !(Array.isArray(input[list]) && (input[list] as unknown[]).length === 0));
  const hasServers = serverLists.some(listed);
  if (input.tenantOnly === true && hasServers) {
    return [
      `${configNamespace}:tenantOnly: expected it only on a stack without servers, found true with ` +
        "npsServers or vpnServers set. Remove tenantOnly, or the servers",
    ];
  }
  if (input.tenantOnly === true || hasServers) return [];
  return [
    `${configNamespace}:npsServers: expected at least one NPS or VPN server, found neither npsServers nor ` +
      "vpnServers. On an existing stack the next update would stop managing every server: check for a " +
      `misspelt setting, or set ${configNamespace}:tenantOnly to true for a stack that manages only the tenant's ` +
      "MFA service principals",
  ];
}

export type StackConfig = z.infer<typeof stackConfigSchema>;
/** The settings as a program may write them (defaults left out): what declareEstate validates. */
export type EstateSettings = z.input<typeof stackConfigSchema>;
export type NpsServerConfig = StackConfig["npsServers"][number];
export type VpnServerConfig = StackConfig["vpnServers"][number];
export type RadiusProxyConfig = StackConfig["radiusProxies"][number];
export type WinrmEndpointConfig = NpsServerConfig["winrm"];
export type ExtensionConfig = StackConfig["extension"];
export type GraphConfig = StackConfig["graph"];

/** Config as Pulumi hands it over: text per key, and which keys the stack stores encrypted. */
export interface RawStackConfig {
  values: Partial<Record<ConfigKey, string>>;
  secretKeys: ConfigKey[];
  /** Every other key the stack sets under our namespace (without `npsmfa:`): each one is a problem. */
  unknownKeys?: string[];
  /** When given, the files that settings name are read and checked (config/files.ts). */
  readFile?: FileReader;
}

/**
 * A RunError: Pulumi's program runner prints a RunError's message alone, where any other error arrives as
 * "Running program ... failed with an unhandled exception" with its stack and fields (cmd/run/run.js).
 */
export class ConfigError extends RunError {
  constructor(readonly problems: string[]) {
    super(
      `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

const objectKeys: ReadonlySet<ConfigKey> = new Set([...serverLists, "extension", "graph"]);
/** Pulumi hands booleans and numbers over as text. */
const booleanKeys: ReadonlySet<ConfigKey> = new Set(["tenantOnly"]);
const numberKeys: ReadonlySet<ConfigKey> = new Set(["iasHealthCheckSeconds"]);

/** Validates raw stack config; throws one ConfigError naming every problem. */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  const unparsed = new Set<string>();
  for (const key of configKeys) {
    const text = raw.values[key];
    if (text === undefined) continue;
    if (booleanKeys.has(key)) {
      input[key] = text === "true" ? true : text === "false" ? false : text;
      continue;
    }
    if (numberKeys.has(key)) {
      input[key] = /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
      continue;
    }
    if (!objectKeys.has(key)) {
      input[key] = text;
      continue;
    }
    try {
      input[key] = JSON.parse(text);
    } catch {
      unparsed.add(key);
      problems.push(
        `${configNamespace}:${key}: expected structured YAML (a list or a map), found text that is not`,
      );
    }
  }
  if (raw.values.tenantId === undefined) {
    problems.push(
      `${configNamespace}:tenantId: expected the Entra tenant ID, found nothing. ` +
        `Set it: pulumi config set ${configNamespace}:tenantId <guid>`,
    );
    input.tenantId = "00000000-0000-0000-0000-000000000000";
  }

  for (const key of raw.unknownKeys ?? []) {
    const shown = /^[\w.-]+$/.test(key) ? key : JSON.stringify(key);
    problems.push(`${configNamespace}:${shown}: ${unknownKeyMessage(key, configKeys, settingPaths())}`);
  }
  const result = stackConfigSchema.safeParse(input, { reportInput: true });
  problems.push(...crossServerProblems(input));
  problems.push(...serverPresenceProblems(input, unparsed));
  if (raw.readFile) problems.push(...fileSettingProblems(input, raw.readFile));
  if (result.success) {
    problems.push(...plaintextSecretProblems(result.data, raw.secretKeys));
  } else {
    problems.push(...result.error.issues.map((issue) => formatIssue(issue, input)));
  }
  problems.sort();
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: StackConfig }).data;
}

/** A password in Pulumi.<stack>.yaml in clear text is a leak waiting for the next commit. */
function plaintextSecretProblems(config: StackConfig, secretKeys: ConfigKey[]): string[] {
  const problems: string[] = [];
  const check = (key: ConfigKey, path: string, value: string | undefined) => {
    if (value !== undefined && !secretKeys.includes(key)) {
      problems.push(
        `${configNamespace}:${path}: expected an encrypted secret, found a value stored in plain text in the ` +
          `stack file. Remove it and set it with: pulumi config set --secret --path '${path}' <value>`,
      );
    }
  };
  for (const list of serverLists) {
    config[list].forEach((server, index) =>
      check(list, `${list}[${index}].winrm.password`, server.winrm.password),
    );
  }
  check("graph", "graph.clientSecret", config.graph.clientSecret);
  return problems;
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === "number") return `${text}[${part}]`;
    return text === "" ? String(part) : `${text}.${String(part)}`;
  }, "");
}

function formatIssue(issue: z.core.$ZodIssue, input: Record<string, unknown>): string {
  const path = formatPath(issue.path);
  const host = hostOf(issue.path, input);
  const message =
    issue.code === "unrecognized_keys"
      ? issue.keys
          .map((key) => unknownKeyMessage(key, Object.keys(shapeAt(issue.path) ?? {}), settingPaths()))
          .join("; ")
      : issue.message;
  return `${configNamespace}:${path}${host ? ` (host ${host})` : ""}: ${message.replace("{path}", path)}`;
}

const definition = (schema: z.ZodType) =>
  (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;

/** The object schema inside wrappers (default, optional, pipe) and arrays. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = definition(schema);
  if (def.type === "object") return def.shape as Record<string, z.ZodType>;
  const inner = def.innerType ?? def.element ?? def.in;
  return inner ? objectShape(inner as z.ZodType) : undefined;
}

function isList(schema: z.ZodType): boolean {
  const def = definition(schema);
  const inner = def.innerType ?? def.in;
  return def.type === "array" || (inner !== undefined && isList(inner as z.ZodType));
}

/** The settings known at a path of the input (list indexes skipped). */
function shapeAt(path: PropertyKey[]): Record<string, z.ZodType> | undefined {
  let shape = objectShape(stackConfigSchema);
  for (const part of path) {
    if (typeof part === "number") continue;
    const child = shape?.[String(part)];
    shape = child ? objectShape(child) : undefined;
  }
  return shape;
}

/** Every setting's path, `vpnServers[].radiusTimeoutSeconds` style, for a setting put at the wrong level. */
function settingPaths(): string[] {
  const paths: string[] = [];
  const visit = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [key, child] of Object.entries(shape)) {
      const path = `${prefix}${key}${isList(child) ? "[]" : ""}`;
      paths.push(path);
      const nested = objectShape(child);
      if (nested) visit(nested, `${path}.`);
    }
  };
  visit(objectShape(stackConfigSchema) ?? {}, "");
  return paths;
}

/** The host a problem belongs to, so an admin with ten servers knows which one to fix. */
function hostOf(path: PropertyKey[], input: Record<string, unknown>): string | undefined {
  const [list, index] = path;
  if (!serverLists.includes(list as ServerList) || typeof index !== "number") return undefined;
  const servers = input[list as ServerList];
  if (!Array.isArray(servers)) return undefined;
  const server = servers[index] as { hostname?: unknown } | undefined;
  return typeof server?.hostname === "string" && path[2] !== "hostname" ? server.hostname : undefined;
}

/** JSON Schema of the configuration, for the README's reference and for editors. */
export function stackConfigJsonSchema(): unknown {
  return z.toJSONSchema(stackConfigSchema, { io: "input", unrepresentable: "any" });
}
