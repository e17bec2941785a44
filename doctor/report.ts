// How findings reach a person (a table, first failing line first) or a pipeline (--json).
import type { Finding } from "./checks";
import { causeOf } from "./diagnose";

export interface DoctorReport {
  cause: string | null;
  findings: Finding[];
}

export function doctorReport(findings: Finding[]): DoctorReport {
  return { cause: causeOf(findings), findings };
}

const statusWord = { pass: "PASS", warn: "WARN", fail: "FAIL" } as const;

/** Words in lines of at most `size` characters; a word longer than that (a URL, a GUID) is cut. */
function wrap(text: string, size: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const whole of text.split(/\s+/).filter(Boolean)) {
    let word = whole;
    while (word.length > size) {
      if (line) lines.push(line);
      lines.push(word.slice(0, size));
      word = word.slice(size);
      line = "";
    }
    if (line && line.length + 1 + word.length > size) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

const nothingFails = "No check fails: the tenant and servers are as MFA for VPN needs them.";

/** The report's first line: the cause and how many checks fail, or that none does. */
export function summaryLine(report: DoctorReport): string {
  const failing = report.findings.filter((entry) => entry.status === "fail").length;
  return report.cause
    ? `Sign-in fails: ${report.cause} (the first FAIL below); ${failing} check${failing === 1 ? "" : "s"} fail.`
    : nothingFails;
}

/** The cause without the table (the demo shows it): its check id, where, evidence, then its fix. */
export function causeLines(report: DoctorReport): string[] {
  const cause = report.findings.find((entry) => entry.status === "fail");
  if (!cause) return [nothingFails];
  return [`Sign-in fails: ${cause.id} at ${cause.where}: ${cause.evidence}`, `Fix: ${cause.fix}`];
}

/** Evidence and fix each get at least this much room in the table, or each finding becomes a block. */
const minimumTextColumn = 30;

/**
 * The summary line first, then the findings as plain text that fits `width` columns (80 and up): a table
 * whose evidence and fix wrap under their column when it is wide enough, else one block per finding.
 */
export function renderTable(report: DoctorReport, width = 120): string {
  const rows = report.findings.map((entry) => [
    statusWord[entry.status],
    entry.id,
    entry.where,
    entry.evidence,
    entry.fix,
  ]);
  const header = ["STATUS", "CHECK", "WHERE", "EVIDENCE", "FIX"];
  const fixed = [0, 1, 2].map((column) =>
    Math.max(header[column].length, ...rows.map((row) => row[column].length)),
  );
  const rest = width - fixed.reduce((sum, size) => sum + size + 2, 0);
  const body = rest >= 2 * minimumTextColumn + 2 ? table(header, rows, fixed, rest) : blocks(rows, width);
  return [summaryLine(report), "", ...body].join("\n");
}

function table(header: string[], rows: string[][], fixed: number[], rest: number): string[] {
  const evidenceWidth = Math.ceil(rest / 2);
  const fixWidth = rest - evidenceWidth - 2;
  const format = (cells: string[]): string[] => {
    const evidence = wrap(cells[3], evidenceWidth);
    const fix = wrap(cells[4], fixWidth);
    return Array.from({ length: Math.max(evidence.length, fix.length) }, (_unused, index) =>
      [
        ...(index === 0 ? cells.slice(0, 3) : ["", "", ""]).map((cell, column) => cell.padEnd(fixed[column])),
        (evidence[index] ?? "").padEnd(evidenceWidth),
        fix[index] ?? "",
      ]
        .join("  ")
        .trimEnd(),
    );
  };
  return [...format(header), ...rows.flatMap(format)];
}

/** A narrow terminal: `STATUS  check  where`, then the evidence and the fix indented under it. */
function blocks(rows: string[][], width: number): string[] {
  const indent = "      ";
  return rows.flatMap(([status, id, where, evidence, fix]) => {
    const head = `${status}  ${id}  ${where}`;
    return [
      ...(head.length <= width ? [head] : wrap(head, width)),
      ...wrap(`evidence: ${evidence}`, width - indent.length).map((line) => indent + line),
      ...(status === "PASS" ? [] : wrap(`fix: ${fix}`, width - indent.length).map((line) => indent + line)),
    ];
  });
}
