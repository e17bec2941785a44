// Windows PowerShell run by WinRM writes its error stream to stderr as serialized objects (CLIXML,
// "#< CLIXML" then <Objs> documents) instead of text. This turns that back into the text an admin
// would have seen in a console; progress records and other objects are dropped.
const marker = "#< CLIXML";

/** Decodes XML entities and PowerShell's _xHHHH_ escapes (e.g. _x000D__x000A_ for CRLF). */
export function decodeClixmlString(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, decimal: string) => String.fromCodePoint(parseInt(decimal, 10)))
    .replace(/&amp;/g, "&")
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Stream names whose records become text, and the prefix a console shows for them. */
const shownStreams: Record<string, string> = { Error: "", Warning: "WARNING: " };

/** Readable text of a stderr that may hold CLIXML; plain stderr comes back unchanged. */
export function clixmlToText(stderr: string): string {
  if (!stderr.includes(marker)) return stripAnsi(stderr);
  const parts: string[] = [];
  for (const [index, chunk] of stderr.split(marker).entries()) {
    if (index === 0) {
      if (chunk.trim() !== "") parts.push(chunk);
      continue;
    }
    const start = chunk.indexOf("<Objs");
    const end = chunk.lastIndexOf("</Objs>");
    if (start < 0 || end < 0) {
      parts.push(chunk);
      continue;
    }
    const recordPattern = /<S S="(\w+)">([\s\S]*?)<\/S>/g;
    for (const match of chunk.slice(start, end).matchAll(recordPattern)) {
      const prefix = shownStreams[match[1]];
      if (prefix !== undefined) parts.push(prefix + decodeClixmlString(match[2]));
    }
    const trailing = chunk.slice(end + "</Objs>".length);
    if (trailing.trim() !== "") parts.push(trailing);
  }
  return stripAnsi(parts.join("")).replace(/\r\n/g, "\n");
}

/** PowerShell 7 colours error text with ANSI sequences even when it serializes or redirects it. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}
