/**
 * Adam's elementwise update in WebAssembly (wasm/adam.ts, adamRows): the
 * float64 math of adamUpdate in src/optim/adam.ts, the readable reference,
 * operation for operation, so the same bits; two values per SIMD operation.
 * The arrays are copied into the shared memory and w, m, v back out.
 */
import { Arena, requireRuntime } from './arena.js';

/**
 * One Adam update of w, m, v in place from g; c1 and c2 are the bias
 * corrections 1 / (1 - b1^t) and 1 / (1 - b2^t), `shrink` multiplies w first
 * (1 for Adam, 1 - lr * weightDecay for AdamW).
 */
export function adamRowsWasm(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  lr: number, b1: number, b2: number, eps: number, shrink: number, c1: number, c2: number,
): void {
  const rt = requireRuntime('adamRowsWasm');
  const n = w.length;
  const mem = new Arena(rt);
  const [wo, go, mo, vo] = [mem.take(4 * n), mem.take(4 * n), mem.take(4 * n), mem.take(4 * n)];
  const f = mem.commit();
  f.set(w, wo >> 2);
  f.set(g, go >> 2);
  f.set(m, mo >> 2);
  f.set(v, vo >> 2);
  rt.exports.adamRows(wo, go, mo, vo, n, lr, b1, b2, eps, shrink, c1, c2);
  w.set(f.subarray(wo >> 2, (wo >> 2) + n));
  m.set(f.subarray(mo >> 2, (mo >> 2) + n));
  v.set(f.subarray(vo >> 2, (vo >> 2) + n));
}
