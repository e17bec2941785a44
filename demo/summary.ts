// The story's last words: what was wrong, what was changed, how long each step took. Pure.
import type { DemoReport } from "./story";

export function summaryLines(report: DemoReport): string[] {
  const lines = ["", "== Summary"];
  lines.push(
    report.ok ? "The story ended as it should." : `The story did not end as it should: ${report.reason}`,
  );
  if (report.wrong.length > 0) lines.push("What was wrong:", ...report.wrong.map((line) => `  ${line}`));
  if (report.changed.length > 0) {
    lines.push(`What the repair changed (${report.changed.length} resources):`);
    lines.push(...report.changed.map((line) => `  ${line}`));
  }
  if (report.drift.length > 0)
    lines.push(
      "Changed behind the tool's back, found and repaired:",
      ...report.drift.map((line) => `  ${line}`),
    );
  if (report.iasRestarts.length > 0)
    lines.push(`IAS restarted, one server at a time: ${report.iasRestarts.join(", ")}`);
  if (report.dials.before || report.dials.after)
    lines.push(
      `VPN dial: ${report.dials.before ?? "not tried"} before the repair, ${report.dials.after ?? "not tried"} after`,
    );
  if (report.doctor.before !== undefined || report.doctor.after !== undefined)
    lines.push(
      `Doctor: ${doctorSaid(report.doctor.before)} before the repair, ${doctorSaid(report.doctor.after)} after`,
    );
  lines.push("How long each step took:");
  for (const step of report.steps) lines.push(`  ${step.seconds.toFixed(1).padStart(6)} s  ${step.title}`);
  const total = report.steps.reduce((sum, step) => sum + step.seconds, 0);
  lines.push(`  ${total.toFixed(1).padStart(6)} s  in all`);
  return lines;
}

function doctorSaid(cause: string | null | undefined): string {
  if (cause === undefined) return "not run";
  return cause === null ? "no check failing" : `cause ${cause}`;
}
