/**
 * Interop with scijs `ndarray`. `toNdarray` is zero-copy (the ndarray views
 * the tensor's Float32Array); `fromNdarray` copies any strided view.
 *
 * ndarray builds its classes with `new Function`, but only when an array is
 * first made (not on import), so the rest of normgrad works where eval is
 * banned (a strict CSP): only these two functions need it.
 */
import ndarray, { type NdArray } from 'ndarray';
import { Tensor } from './tensor.js';
import { allocate, checkTensor } from './check.js';
import { checkShape } from './shape.js';

/** A zero-copy ndarray view of the tensor: writes through it change the tensor. */
export function toNdarray(t: Tensor): NdArray<Float32Array> {
  checkTensor('toNdarray', t);
  return ndarray(t.data, [...t.shape], [...t.strides], 0);
}

/** Copies any ndarray (any strides, offset or dtype) into a new contiguous tensor. */
export function fromNdarray(a: NdArray): Tensor {
  if (a === null || typeof a !== 'object' || !Array.isArray(a.shape) || typeof a.get !== 'function') {
    throw new Error('fromNdarray: expected an ndarray (with shape, stride, offset and data)');
  }
  const shape = [...a.shape];
  checkShape('fromNdarray', shape);
  const out = new Tensor(allocate('fromNdarray', shape), shape);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const data = a.data as ArrayLike<number> & { get?: (i: number) => number };
  const read = typeof data.get === 'function' ? (i: number) => data.get!(i) : (i: number) => data[i]!;
  let src = a.offset;
  for (let i = 0; i < out.size; i++) {
    out.data[i] = read(src);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += a.stride[d]!;
      if (idx[d]! < shape[d]!) break;
      src -= a.stride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
