/**
 * Checking arguments at the API boundary. A public function calls these
 * first, so a wrong argument (null, a plain array, a number where a tensor
 * belongs) is an Error naming the function and what was wrong, never a raw
 * "Cannot read properties of null" from deep inside.
 *
 *   checkTensor('matmul', [[1, 2]], 'a') -> matmul: a must be a Tensor, got [[1,2]] (an Array; use tensor(values) to make one)
 */
import { describe } from './options.js';
import { formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

/** Throws unless `value` is a Tensor; returns it. `what` names the argument ('input', 'kernel'). */
export function checkTensor(op: string, value: unknown, what = 'input'): Tensor {
  if (value instanceof Tensor) return value;
  const hint = Array.isArray(value) || ArrayBuffer.isView(value) ? ' (an array; use tensor(values) to make a Tensor)' : '';
  throw new Error(`${op}: ${what} must be a Tensor, got ${describeValue(value)}${hint}`);
}

/** Throws unless `value` is an array of Tensors; returns it. */
export function checkTensorList(op: string, value: unknown, what = 'tensors'): readonly Tensor[] {
  if (!Array.isArray(value)) throw new Error(`${op}: ${what} must be an array of Tensors, got ${describeValue(value)}`);
  value.forEach((t, i) => checkTensor(op, t, `${what}[${i}]`));
  return value as Tensor[];
}

/** Throws unless `value` is a function; returns it. */
export function checkFunction<F>(op: string, value: F, what: string): F {
  if (typeof value !== 'function') throw new Error(`${op}: ${what} must be a function, got ${describeValue(value)}`);
  return value;
}

/** `describe` from options.ts, plus undefined, Tensors by shape and short arrays by content. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value instanceof Tensor) return `a Tensor ${formatShape(value.shape)}`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    let text = '';
    try {
      text = JSON.stringify(value) ?? '';
    } catch {
      text = '(unprintable)'; // BigInt entries, cycles
    }
    return text.length <= 40 && text !== '(unprintable)' ? text : `an array of ${value.length}`;
  }
  if (typeof value === 'number') return String(value);
  return describe(value);
}

/**
 * A zero-filled Float32Array for `shape`. A shape too large to allocate is
 * an Error naming `op`, the shape and its element count, instead of a bare
 * `RangeError: Invalid typed array length`.
 */
export function allocate(op: string, shape: Shape): Float32Array {
  return withSizeCheck(op, shape, () => new Float32Array(sizeOf(shape)));
}

/**
 * Runs `compute`, which allocates a result of `shape`; a RangeError from the
 * allocation (over the engine's typed-array limit, or out of memory) becomes
 * an Error naming `op`, the shape and its element count.
 */
export function withSizeCheck<T>(op: string, shape: Shape, compute: () => T): T {
  try {
    return compute();
  } catch (e) {
    if (!(e instanceof RangeError) || !/array (buffer )?(length|allocation)/i.test(e.message)) throw e;
    const n = sizeOf(shape);
    throw new Error(
      `${op}: shape ${formatShape(shape)} has ${n} elements (${(4 * n / 2 ** 30).toFixed(1)} GiB of float32), more than can be allocated (${e.message})`,
      { cause: e },
    );
  }
}

/** True when two typed arrays share memory (the same buffer, overlapping bytes). */
export function sharesMemory(x: ArrayBufferView, y: ArrayBufferView): boolean {
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}
