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
  return appendEvent(eventLogFile(stateFile), event);
}

/** Appends one event to a JSON-lines event file (a host's, or the dialling client's). */
export function appendEvent(file: string, event: Omit<HostEvent, "timeCreated">): HostEvent {
  const logged: HostEvent = { ...event, timeCreated: new Date().toISOString() };
  fs.appendFileSync(file, JSON.stringify(logged) + "\n");
  return logged;
}

/** Every event the host logged while running, oldest first. */
export function loggedHostEvents(stateFile: string): HostEvent[] {
  return readEvents(eventLogFile(stateFile));
}

/** Every event in a JSON-lines event file, oldest first; none when it does not exist. */
export function readEvents(file: string): HostEvent[] {
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

/**
 * An event as one line: where, channel and ID, then the message's first sentence and its codes (reason code,
 * error code); an ESTS_TOKEN_ERROR by its AADSTS reason, since its preamble is boilerplate.
 */
export function eventLine(host: string, event: HostEvent): string {
  const text = event.message.replace(/\s+/g, " ").trim();
  const token = /ESTS_TOKEN_ERROR\b.*?(AADSTS\d+.*)?$/.exec(text);
  const sentence = (value: string) => value.split(/(?<=[.!?])\s/)[0];
  const gist = token ? `ESTS_TOKEN_ERROR${token[1] ? ` ${sentence(token[1])}` : ""}` : sentence(text);
  const codes = [
    ...[...text.matchAll(/Reason Code:? (\d+)/gi)].map((match) => `reason code ${match[1]}`),
    ...[...text.matchAll(/error code returned on failure is (\d+)/gi)].map(
      (match) => `error code ${match[1]}`,
    ),
  ].filter((code) => !gist.includes(code));
  const line = `${host} ${event.logName} ${event.id}: ${gist}${codes.length > 0 ? ` (${codes.join(", ")})` : ""}`;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
