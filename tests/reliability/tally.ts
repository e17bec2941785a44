// The reliability suite's counts: each test adds what it injected and what came of it, one JSON line
// per call in the file scripts/reliability.ts names (NPSMFA_RELIABILITY_TALLY), which prints the totals.
import * as fs from "node:fs";

export interface ReliabilityCounts {
  /** Faults the test put in the way: a throttled write, a dropped connection, a failing service, ... */
  faultsInjected: number;
  /** Runs that finished with the declared state despite a fault. */
  survived: number;
  /** Runs that stopped with an error naming what failed, and left nothing broken behind. */
  haltedCleanly: number;
  /** Key credentials present before (or reported registered) and missing after. */
  keysLost: number;
  /** Canary secrets found where they must never be. */
  secretsFound: number;
  /** Hostile strings that ran as code on a host. */
  injectionsExecuted: number;
  /** Configurations known to be wrong that the schema let through. */
  badConfigsAccepted: number;
}

export const countNames: (keyof ReliabilityCounts)[] = [
  "faultsInjected",
  "survived",
  "haltedCleanly",
  "keysLost",
  "secretsFound",
  "injectionsExecuted",
  "badConfigsAccepted",
];

/** Adds to the suite's counts; outside the runner (a plain `npx mocha` of one file) it only returns. */
export function count(counts: Partial<ReliabilityCounts>): void {
  const file = process.env.NPSMFA_RELIABILITY_TALLY;
  if (file) fs.appendFileSync(file, JSON.stringify(counts) + "\n");
}

export function totals(lines: string): ReliabilityCounts {
  const sum = Object.fromEntries(countNames.map((name) => [name, 0])) as unknown as ReliabilityCounts;
  for (const line of lines.split("\n").filter((text) => text.trim() !== "")) {
    const entry = JSON.parse(line) as Partial<ReliabilityCounts>;
    for (const name of countNames) sum[name] += entry[name] ?? 0;
  }
  return sum;
}

/** The line the issue asks for. */
export function countsLine(sum: ReliabilityCounts): string {
  return (
    `faults injected ${sum.faultsInjected}, survived ${sum.survived}, halted cleanly ${sum.haltedCleanly}, ` +
    `keys lost ${sum.keysLost}, secrets found ${sum.secretsFound}, injections executed ${sum.injectionsExecuted}, ` +
    `bad configs accepted ${sum.badConfigsAccepted}`
  );
}
