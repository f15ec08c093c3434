/**
 * Checking an options object at the API boundary: every layer, op and
 * optimizer calls `checkOptions` first, so a typo (`stride` for `strides`,
 * `use_bias` for `useBias`, `eps` for `epsilon`) is an error that names the
 * caller and the valid keys instead of an option silently ignored.
 *
 *   checkOptions('Conv2d', { stride: 2 }, ['strides', 'padding', ...])
 *   -> Conv2d: unknown option 'stride' (did you mean 'strides'?); valid options: strides, padding, ...
 */

/** Throws unless `options` is undefined or a plain object whose keys are all in `valid`. */
export function checkOptions(owner: string, options: unknown, valid: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`${owner}: options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (valid.includes(key)) continue;
    const near = suggest(key, valid);
    const hint = near === null ? '' : ` (did you mean '${near}'?)`;
    throw new Error(`${owner}: unknown option '${key}'${hint}; valid options: ${valid.join(', ') || '(none)'}`);
  }
}

/** A short description of a value for error messages: `'no' (a string)`, `null`, `[1,2]`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}' (a string)`;
  if (Array.isArray(value)) return `[${value.map((v) => String(v)).join(',')}]`;
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return String(value);
}

/** Throws unless `value` is a boolean; returns it. */
export function checkBoolean(owner: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error(`${owner}: ${option} must be true or false, got ${describe(value)}`);
  return value;
}

/** Throws unless `value` is a finite number in [lo, hi]; returns it. */
export function checkNumber(owner: string, option: string, value: unknown, lo = -Infinity, hi = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    const range = lo === -Infinity && hi === Infinity ? 'a finite number' : `a number in [${lo}, ${hi}]`;
    throw new Error(`${owner}: ${option} must be ${range}, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is an integer >= `min`; returns it. */
export function checkInteger(owner: string, option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`${owner}: ${option} must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is one of `choices`; returns it. */
export function checkOneOf<T extends string>(owner: string, option: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new Error(`${owner}: ${option} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/**
 * The valid key closest to `key` by edit distance (case-insensitive, ignoring
 * `_`), if it is close; or the valid key that `key` abbreviates (`eps` ->
 * `epsilon`, three letters at least).
 */
function suggest(key: string, valid: readonly string[]): string | null {
  const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');
  const prefixOf = valid.filter((v) => norm(key).length >= 3 && norm(v).startsWith(norm(key)));
  if (prefixOf.length === 1) return prefixOf[0]!;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const d = editDistance(norm(key), norm(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
