// The lab's download host: the Graph emulator's HTTPS server answers requests for another host name (the
// Host header an NPS host sends, as DNS would have routed it) with the files of one lab folder, as a plain
// static file server would: 200 with the bytes, 404 for anything else.
import * as fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";

export interface DownloadSite {
  /** The host name it answers for (downloads.lab.example). */
  host: string;
  /** URL path of the folder, with both slashes ("/npsmfa/"). */
  pathPrefix: string;
  dir: string;
}

/** Answers the request if it is for the download host; false leaves it to the emulator. */
export function serveDownload(
  site: DownloadSite,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  const host = (request.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  if (host !== site.host.toLowerCase()) return false;
  const notFound = () => {
    response.writeHead(404, { "Content-Type": "text/plain" });
    response.end("Not Found");
  };
  const method = request.method ?? "GET";
  const url = new URL(request.url ?? "/", `https://${site.host}`);
  if ((method !== "GET" && method !== "HEAD") || !url.pathname.startsWith(site.pathPrefix)) {
    notFound();
    return true;
  }
  const name = decodeURIComponent(url.pathname.slice(site.pathPrefix.length));
  const file = path.join(site.dir, name);
  // One file of the folder itself: no subfolders, nothing that climbs out of it.
  if (!name || name.includes("/") || name.includes("\\") || name === ".." || !fs.existsSync(file)) {
    notFound();
    return true;
  }
  const body = fs.readFileSync(file);
  response.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length });
  response.end(method === "HEAD" ? undefined : body);
  return true;
}
