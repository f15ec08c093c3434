import { checkShape, formatShape, sizeOf, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';
import { allocate } from './check.js';

/**
 * Makes a tensor from nested arrays (`tensor([[1,2],[3,4]])`), a number
 * (a scalar), or flat values plus a shape (`tensor([1,2,3,4], [2,2])`).
 * Values are copied into a new Float32Array.
 *
 * Every entry must be a number (NaN and Infinity included): holes
 * (`[1, , 3]`, `new Array(3)`), undefined, strings, booleans and ragged
 * nesting are errors naming the position, never a silent 0 or NaN.
 *
 * @example
 * tensor([[1, 2], [3, 4]]).shape;      // [2, 2]
 * tensor([1, 2, 3, 4], [2, 2]).shape;  // [2, 2], from flat values
 * tensor(5).shape;                     // [], a scalar
 * tensor([[1, 2], [3]]);               // throws: ragged nested array at values[1]
 * tensor([1, , 3]);                    // throws: values[1] is a hole (an empty slot), not a number
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: Shape): Tensor {
  if (shape !== undefined) {
    checkShape('tensor', shape);
    const flat = ArrayBuffer.isView(values) ? fromTypedArray(values) : flatten(values as NestedArray).values;
    if (flat.length !== sizeOf(shape)) {
      throw new Error(`tensor: ${flat.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} needed)`);
    }
    return new Tensor(flat, shape);
  }
  if (ArrayBuffer.isView(values)) {
    const flat = fromTypedArray(values);
    return new Tensor(flat, [flat.length]);
  }
  const { values: flat, shape: inferred } = flatten(values as NestedArray);
  return new Tensor(flat, inferred);
}

/** A copy of a typed array's values as float32 (DataView and BigInt arrays refused). */
function fromTypedArray(values: ArrayBufferView): Float32Array {
  if (values instanceof DataView || values instanceof BigInt64Array || values instanceof BigUint64Array) {
    throw new Error(`tensor: values must be numbers, nested arrays of numbers or a numeric typed array, got ${values.constructor.name}`);
  }
  return Float32Array.from(values as unknown as ArrayLike<number>);
}

/** Describes a non-number entry for the error message. */
function notANumber(v: unknown, holder: unknown[], i: number): string {
  if (!(i in holder)) return 'a hole (an empty slot), not a number';
  if (v === undefined || v === null) return `${String(v)}, not a number`;
  if (typeof v === 'string') return `the string '${v}', not a number (convert with Number() first)`;
  return `${typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : `a ${typeof v}`}, not a number`;
}

/** Infers the shape of nested arrays and flattens them, rejecting ragged input and non-numbers. */
function flatten(values: NestedArray): { values: Float32Array; shape: number[] } {
  if (typeof values === 'number') return { values: Float32Array.of(values), shape: [] };
  if (!Array.isArray(values)) {
    throw new Error(`tensor: values must be a number, nested arrays of numbers or a typed array, got ${notANumber(values, [values], 0)}`);
  }
  const shape: number[] = [];
  let level: NestedArray = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  const out = allocate('tensor', shape);
  let k = 0;
  const walk = (v: NestedArray[], depth: number, path: string): void => {
    if (v.length !== shape[depth]) {
      throw new Error(`tensor: ragged nested array at ${path}: expected ${shape[depth]} entries, got ${v.length} (shape ${formatShape(shape)})`);
    }
    const last = depth === shape.length - 1;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const at = `${path}[${i}]`;
      if (last) {
        if (typeof x !== 'number') {
          const why = Array.isArray(x) ? `ragged nested array at ${at}: expected a number, got an array (shape ${formatShape(shape)})` : `${at} is ${notANumber(x, v, i)}`;
          throw new Error(`tensor: ${why}`);
        }
        out[k++] = x;
      } else if (!Array.isArray(x)) {
        const why = typeof x === 'number' ? 'a number' : notANumber(x, v, i).replace(', not a number', '');
        throw new Error(`tensor: ragged nested array at ${at}: expected an array of ${shape[depth + 1]} entries, got ${why} (shape ${formatShape(shape)})`);
      } else {
        walk(x, depth + 1, at);
      }
    }
  };
  if (shape.length > 0) walk(values, 0, 'values');
  return { values: out, shape };
}

/** A tensor of the given shape filled with `value`. */
export function full(shape: Shape, value: number): Tensor {
  checkShape('full', shape);
  if (typeof value !== 'number') throw new Error(`full: value must be a number, got ${typeof value}`);
  return new Tensor(allocate('full', shape).fill(value), shape);
}

/** A tensor of the given shape filled with 0. */
export function zeros(shape: Shape): Tensor {
  checkShape('zeros', shape);
  return new Tensor(allocate('zeros', shape), shape);
}

/** A tensor of the given shape filled with 1. */
export function ones(shape: Shape): Tensor {
  checkShape('ones', shape);
  return new Tensor(allocate('ones', shape).fill(1), shape);
}

/** A scalar (shape `[]`). */
export function scalar(value: number): Tensor {
  if (typeof value !== 'number') throw new Error(`scalar: value must be a number, got ${typeof value}`);
  return new Tensor(Float32Array.of(value), []);
}
