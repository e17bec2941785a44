// The lab's NpsExtnForAzureMfaInstaller.exe: a small file, a marker line and the release's manifest, that the
// shim's Start-Process runs as the real installer would (lab/windows/WindowsShim.psm1, Invoke-ShimLabInstaller).
// `npm run lab` serves the current release from <lab dir>/installers on a file share and over HTTPS.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ExtensionProduct, extensionProduct } from "./windows/hostState";

/** The name Microsoft's download has. */
export const installerFileName = "NpsExtnForAzureMfaInstaller.exe";
/** A lab installer's first line; the shim runs no other file as an installer. */
export const labInstallerMarker = "NPSMFA-LAB-INSTALLER 1";

/** Where lab NPS hosts find the lab folder's installers: a file share, and a download host over HTTPS. */
export const labInstallerShare = "\\\\files.lab.example\\npsmfa";
export const labDownloadHost = "downloads.lab.example";
export const labDownloadPath = "/npsmfa/";

export interface LabInstaller {
  /** The file on this machine. */
  file: string;
  sha256: string;
  version: string;
  productCode: string;
}

/** Writes the installer of an extension version into `dir` (created if need be), as `fileName`. */
export function writeLabInstaller(dir: string, version: string, fileName = installerFileName): LabInstaller {
  const product = extensionProduct(version);
  const content = `${labInstallerMarker}\n${JSON.stringify(product, null, 2)}\n`;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, fileName);
  fs.writeFileSync(file, content);
  return {
    file,
    sha256: crypto.createHash("sha256").update(content).digest("hex").toUpperCase(),
    version,
    productCode: product.productCode,
  };
}

/** A lab installer's manifest; undefined for any other file. */
export function readLabInstaller(file: string): ExtensionProduct | undefined {
  const [first, ...rest] = fs.readFileSync(file, "utf8").split("\n");
  return first === labInstallerMarker ? (JSON.parse(rest.join("\n")) as ExtensionProduct) : undefined;
}

/** How an NPS host names a file of the lab's installers folder: its UNC path and its HTTPS URL. */
export function labInstallerLocations(fileName = installerFileName): { uncPath: string; url: string } {
  return {
    uncPath: `${labInstallerShare}\\${fileName}`,
    url: `https://${labDownloadHost}${labDownloadPath}${encodeURIComponent(fileName)}`,
  };
}
