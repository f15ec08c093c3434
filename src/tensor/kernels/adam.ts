/**
 * Adam's elementwise update on the fast backend. The readable reference is
 * adamUpdate in src/optim/adam.ts; on the 'wasm' backend this runs its
 * WebAssembly twin (wasm/adam-wasm.ts), the same floats, and returns true;
 * on 'js' it returns false and the optimizer runs the reference.
 */
import { backend } from './backend.js';
import { adamRowsWasm } from './wasm/adam-wasm.js';

/** See adamRowsWasm for the arguments; false when the caller must run the reference. */
export function adamRowsFast(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  lr: number, b1: number, b2: number, eps: number, shrink: number, c1: number, c2: number,
): boolean {
  if (backend() !== 'wasm') return false;
  adamRowsWasm(w, g, m, v, lr, b1, b2, eps, shrink, c1, c2);
  return true;
}
