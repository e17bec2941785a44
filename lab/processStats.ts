// What Linux's /proc says about a process (proc(5), /proc/<pid>/stat): the lab's PowerShell pool uses it
// to tell a worker that computes from one that sleeps, the bench to count the lab's CPU. Undefined where
// there is no /proc (macOS) or the process is gone.
import * as fs from "node:fs";

/** The fields after `(comm)`, so a command name holding spaces or parentheses cannot shift them. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** CPU seconds used: utime + stime (fields 14 and 15), in clock ticks of 1/100 s (USER_HZ on Linux). */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The parent's pid (field 4). */
export function parentPid(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && Number(fields[1]);
}
