// Comparing what a host has (a resource's outputs after read) with what is declared (new inputs). Values
// cross gRPC on the way: key order is not kept and undefined disappears, so both sides are normalised.

/** Sorted keys, no undefined or null members: the form a value has after a trip through gRPC. */
export function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined && member !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, member]) => [key, normalise(member)]);
  return Object.fromEntries(entries);
}

export function sameValue(a: unknown, b: unknown): boolean {
  const emptyA = a === undefined || a === null;
  const emptyB = b === undefined || b === null;
  if (emptyA || emptyB) return emptyA && emptyB;
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

/** Names of the top-level properties in `names` whose live and declared values differ. */
export function changedProperties<T extends object>(
  live: Partial<T>,
  declared: T,
  names: (keyof T)[],
): string[] {
  return names.filter((name) => !sameValue(live[name], declared[name])).map(String);
}

/** `settings.NAME` for each declared setting whose live value differs (missing counts as different). */
export function changedSettings(
  live: Record<string, string> | undefined,
  declared: Record<string, string>,
): string[] {
  return Object.keys(declared)
    .sort()
    .filter((name) => live?.[name] !== declared[name])
    .map((name) => `settings.${name}`);
}

/**
 * When the host last changed under this resource: now if this script run changed anything, or if the
 * host now has values other than those the previous state recorded (`differsFromRecorded`: a run that
 * wrote them, then failed before its state was saved), else as before ("" never). IasRestart restarts
 * when one of these moves, so it moves only on a real change.
 */
export function nextChangedAt(
  changed: string[],
  previous?: { changedAt?: string },
  differsFromRecorded = false,
): string {
  return changed.length > 0 || differsFromRecorded ? new Date().toISOString() : (previous?.changedAt ?? "");
}
