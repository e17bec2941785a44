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

/** Plain text columns; long evidence and fixes wrap under their column instead of stretching the table. */
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
  const rest = Math.max(30, width - fixed.reduce((sum, size) => sum + size + 2, 0));
  const evidenceWidth = Math.ceil(rest / 2);
  const fixWidth = rest - evidenceWidth - 2;
  const wrap = (text: string, size: number): string[] => {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > size) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    return [...lines, line];
  };
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
  const summary = report.cause
    ? `Sign-in fails: ${report.cause} (first FAIL line). ${report.findings.filter((entry) => entry.status === "fail").length} check(s) fail.`
    : "No check fails: the tenant and servers are as MFA for VPN needs them.";
  return [...format(header), ...rows.flatMap(format), "", summary].join("\n");
}
