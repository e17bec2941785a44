// Settings under our namespace that the schema does not know: a typo (`npsServer`) or a setting put at
// the wrong level (`radiusTimeoutSeconds` at the top) would otherwise be ignored, and on an existing
// stack a server list that silently reads as empty stops managing every server.

/** Edit distance between two names, case-insensitive (Levenshtein). */
function distance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = previous[j - 1] + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length];
}

/** The known name closest to `name`, if it is close enough to be a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (!best || d < best.distance) best = { name: candidate, distance: d };
  }
  if (!best) return undefined;
  const allowed = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  return best.distance <= allowed ? best.name : undefined;
}

/**
 * "found unknown X; did you mean Y?" for one key. `known` are the names valid where it was found;
 * `elsewhere` are full paths of every setting, for a setting placed at the wrong level.
 */
export function unknownKeyMessage(
  key: string,
  known: readonly string[],
  elsewhere: readonly string[],
): string {
  const found = `expected only documented settings, found unknown ${JSON.stringify(key)}`;
  const close = closestName(key, known);
  if (close !== undefined) return `${found}; did you mean ${JSON.stringify(close)}?`;
  const nested = elsewhere.filter(
    (path) =>
      path
        .split(/\.|\[\]\./)
        .pop()
        ?.toLowerCase() === key.toLowerCase(),
  );
  if (nested.length > 0) {
    return `${found}; it is not a setting here but of ${nested.map((path) => `\`${path}\``).join(" and ")}`;
  }
  return `${found}. The README's configuration reference lists every setting`;
}
