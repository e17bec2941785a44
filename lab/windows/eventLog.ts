// A lab host's event log written while it works (NPS answering RADIUS, RRAS dialling): one JSON line per
// event, appended next to the host's state file. Kept apart from the state file, as Windows keeps its
// .evtx logs apart from the registry, so an event written by the lab's RADIUS side never races a script's
// read-modify-write of the state. The shim's Get-WinEvent reads both (state `events` and this file).
import * as fs from "node:fs";
import type { HostEvent } from "./hostState";

/** <state file without .json>.events.jsonl: the same rule as Get-ShimEventLogPath in WindowsShim.psm1. */
export function eventLogFile(stateFile: string): string {
  return `${stateFile.replace(/\.json$/i, "")}.events.jsonl`;
}

/** One append of one line: O_APPEND writes this small are not interleaved with other appenders. */
export function logHostEvent(stateFile: string, event: Omit<HostEvent, "timeCreated">): HostEvent {
  const logged: HostEvent = { ...event, timeCreated: new Date().toISOString() };
  fs.appendFileSync(eventLogFile(stateFile), JSON.stringify(logged) + "\n");
  return logged;
}

/** Every event the host logged while running, oldest first. */
export function loggedHostEvents(stateFile: string): HostEvent[] {
  const file = eventLogFile(stateFile);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as HostEvent);
}

/** Events of one log and ID, seeded or logged, for tests and the doctor. */
export function hostEvents(
  stateFile: string,
  seeded: HostEvent[],
  filter: { logName?: string; id?: number } = {},
): HostEvent[] {
  return [...seeded, ...loggedHostEvents(stateFile)].filter(
    (event) =>
      (filter.logName === undefined || event.logName === filter.logName) &&
      (filter.id === undefined || event.id === filter.id),
  );
}
