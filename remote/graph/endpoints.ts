// Where Microsoft Graph and the Entra authority are for a stack: the cloud's hosts by default,
// npsmfa:graph.endpoint / authorityHost when set (a lab, a proxy, a sovereign cloud's variant).
import { cloudEndpoints, CloudName } from "../../config/clouds";

export interface GraphEndpoints {
  /** Graph root including the version, without a trailing slash: https://graph.microsoft.com/v1.0 */
  graphRoot: string;
  /** Origin (and any path prefix) before the version segment, for the Graph SDK's baseUrl. */
  baseUrl: string;
  /** The version segment: v1.0. */
  version: string;
  /** OAuth scope of a client-credentials token for this Graph: <origin>/.default */
  scope: string;
  /** Entra authority host, without a trailing slash. */
  authorityHost: string;
}

const defaultVersion = "v1.0";

export function graphEndpointsFor(
  cloud: CloudName,
  overrides: { endpoint?: string; authorityHost?: string } = {},
): GraphEndpoints {
  const cloudHosts = cloudEndpoints[cloud];
  const graphRoot = (overrides.endpoint ?? `${cloudHosts.graphUrl}/${defaultVersion}`).replace(/\/+$/, "");
  const url = new URL(graphRoot);
  const segments = url.pathname.split("/").filter((segment) => segment !== "");
  const version = segments.pop();
  if (!version) {
    throw new Error(
      `npsmfa:graph.endpoint: expected a Graph URL ending in the version, such as ` +
        `${cloudHosts.graphUrl}/${defaultVersion}, found ${JSON.stringify(graphRoot)}. Add the version segment.`,
    );
  }
  const prefix = segments.length > 0 ? `/${segments.join("/")}` : "";
  return {
    graphRoot,
    baseUrl: `${url.origin}${prefix}/`,
    version,
    scope: `${url.origin}/.default`,
    authorityHost: (overrides.authorityHost ?? cloudHosts.loginUrl).replace(/\/+$/, ""),
  };
}
