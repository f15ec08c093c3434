/**
 * Shapes and strides. Every normgrad tensor is stored contiguously in
 * row-major order, so its strides follow from its shape:
 *   strides[last] = 1,  strides[i] = strides[i+1] * shape[i+1].
 */

/** A tensor's dimensions, outermost first. `[]` is a scalar. */
export type Shape = readonly number[];

/** `[2,3,4]` as it appears in error messages. */
export function formatShape(shape: Shape): string {
  if (!Array.isArray(shape)) throw new Error(`formatShape: shape must be an array of integers, got ${shape === null ? 'null' : typeof shape}`);
  return `[${shape.map((d) => String(d)).join(',')}]`;
}

/** Throws unless every dimension is a non-negative integer. */
export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new Error(`${op}: shape must be an array of integers, got ${describeShape(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: shape ${formatShape(shape)} has ${String(d)}, not a non-negative integer`);
    }
  }
}

function describeShape(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}' (a string)`;
  return (v as object).constructor?.name ?? typeof v;
}

/** Number of elements: the product of the dimensions (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * NumPy broadcasting: align shapes on the right; two dimensions are
 * compatible when equal or when one of them is 1.
 *   [4,1,3] and [5,1] -> [4,5,3]
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  if (typeof op !== 'string') throw new Error(`broadcastShapes: the first argument is the caller's name (a string), got ${describeShape(op)}`);
  checkShape(op, a);
  checkShape(op, b);
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot broadcast (axis ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Normalizes a list of axes (negative counts from the end) to sorted,
 * unique, in-range indices. `undefined` means every axis.
 */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axes !== 'number' && !Array.isArray(axes)) {
    const hint = typeof axes === 'object' && axes !== null && ('axis' in axes || 'keepDims' in axes) ? ` (axes come before the options: ${op}(x, axes, { keepDims }))` : '';
    throw new Error(`${op}: axes must be a number, an array of numbers or undefined (every axis), got ${describeShape(axes)}${hint}`);
  }
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`${op}: axis ${String(a)} is out of range for rank ${rank}`);
    }
    out.add(a < 0 ? a + rank : a);
  }
  return [...out].sort((x, y) => x - y);
}
