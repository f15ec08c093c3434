/**
 * Layer/group normalization's kernels as the autograd op calls them. They
 * run on the backend chosen in backend.ts: WebAssembly
 * (wasm/group-norm-wasm.ts) when it is 'wasm' and the arrays fit its memory,
 * else the TypeScript loops of group-norm-fast.ts. Both compute the same
 * floats to the bit, so the choice is made per call. The step-by-step
 * reference is group-norm-reference.ts.
 */
import { backend } from './backend.js';
import * as fast from './group-norm-fast.js';
import type { GroupLayout, GroupNormForward, GroupNormGrads } from './group-norm-reference.js';
import { groupNormBackwardWasm, groupNormForwardWasm, groupNormWasmFits } from './wasm/group-norm-wasm.js';

export type { GroupLayout, GroupNormForward, GroupNormGrads } from './group-norm-reference.js';

function useWasm(size: number): boolean {
  return backend() === 'wasm' && groupNormWasmFits(size);
}

/** Statistics per group (n, g) and y = gamma * xHat + beta (gamma/beta null mean 1/0). */
export function groupNormForward(
  x: Float32Array, l: GroupLayout, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number,
): GroupNormForward {
  const forward = useWasm(x.length) ? groupNormForwardWasm : fast.groupNormForward;
  return forward(x, l, gamma, beta, epsilon);
}

/** gGamma, gBeta per channel and (if `needInput`) gx, from x and the forward's mean and invStd. */
export function groupNormBackward(
  x: Float32Array, gy: Float32Array, l: GroupLayout, mean: Float64Array, invStd: Float64Array,
  gamma: Float32Array | null, needInput: boolean,
): GroupNormGrads {
  const backward = useWasm(x.length) ? groupNormBackwardWasm : fast.groupNormBackward;
  return backward(x, gy, l, mean, invStd, gamma, needInput);
}
