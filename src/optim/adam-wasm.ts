/**
 * Adam's update in WebAssembly (wasm/adam.ts, adamRows): the float64 math of
 * adamUpdate in adam.ts, the readable reference, operation for operation, so
 * the same bits; two values per SIMD operation. The arrays are copied into the
 * shared memory and w, m, v back out.
 */
import { Arena } from '../tensor/kernels/wasm/arena.js';
import { wasmRuntime } from '../tensor/kernels/wasm/runtime.js';
import type { Slots } from './optimizer.js';
import type { AdamSlot } from './adam.js';

/** The module's Adam export (wasm/adam.ts), called on this thread only. */
export interface AdamExports {
  /** One update of n values at byte offsets w, g, m, v; c1, c2 are the bias corrections 1 / (1 - b^t). */
  adamRows(w: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, shrink: number, c1: number, c2: number): void;
}

/** Whether adamUpdateWasm can run (WebAssembly is there). */
export function adamWasmAvailable(): boolean {
  return wasmRuntime() !== null;
}

/** adamUpdate (adam.ts) in WebAssembly: the same arguments, the same floats. */
export function adamUpdateWasm(w: Float32Array, g: Float32Array, slots: Slots<AdamSlot>, lr: number, b1: number, b2: number, eps: number, shrink: number): void {
  const rt = wasmRuntime();
  if (rt === null) throw new Error('adamUpdateWasm: this runtime lacks WebAssembly SIMD128 or shared memory');
  const { m, v } = slots;
  const t = slots.step[0]! + 1;
  slots.step[0] = t;
  const c1 = 1 / (1 - b1 ** t);
  const c2 = 1 / (1 - b2 ** t);
  const n = w.length;
  const mem = new Arena(rt);
  const [wo, go, mo, vo] = [mem.take(4 * n), mem.take(4 * n), mem.take(4 * n), mem.take(4 * n)];
  const f = mem.commit();
  f.set(w, wo >> 2);
  f.set(g, go >> 2);
  f.set(m, mo >> 2);
  f.set(v, vo >> 2);
  (rt.exports as unknown as AdamExports).adamRows(wo, go, mo, vo, n, lr, b1, b2, eps, shrink, c1, c2);
  w.set(f.subarray(wo >> 2, (wo >> 2) + n));
  m.set(f.subarray(mo >> 2, (mo >> 2) + n));
  v.set(f.subarray(vo >> 2, (vo >> 2) + n));
}
