/**
 * Batch norm's kernels as the autograd op calls them. The training forward
 * and backward run on the backend chosen in backend.ts: WebAssembly
 * (wasm/batch-norm-wasm.ts) when it is 'wasm' and the arrays fit its memory,
 * else the blocked TypeScript passes (batch-norm-fast.ts,
 * batch-norm-fast-backward.ts). Both compute the same floats to the bit, so
 * the choice is made per call. The step-by-step reference is
 * batch-norm-reference.ts; the inference backward uses its normalize and
 * affineGrads directly.
 */
import { backend } from './backend.js';
import * as fast from './batch-norm-fast.js';
import * as fastBackward from './batch-norm-fast-backward.js';
import type { BatchNormGrads, TrainingBackwardOptions } from './batch-norm-fast-backward.js';
import type { TrainingForward } from './batch-norm-fast.js';
import { batchNormWasmFits, trainingBackwardWasm, trainingForwardWasm } from './wasm/batch-norm-wasm.js';

export { affineGrads, normalize } from './batch-norm-reference.js';
export { affine, affineInputGrad, channelMoments, inverseStd } from './batch-norm-fast.js';
export type { BatchNormGrads, TrainingBackwardOptions } from './batch-norm-fast-backward.js';
export type { TrainingForward } from './batch-norm-fast.js';

function useWasm(size: number): boolean {
  return backend() === 'wasm' && batchNormWasmFits(size);
}

/** The training forward: batch mean and variance, invStd, y = gamma * xHat + beta (then max(y, 0) with `relu`). */
export function trainingForward(
  x: Float32Array, channels: number, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number, relu = false,
): TrainingForward {
  const forward = useWasm(x.length) ? trainingForwardWasm : fast.trainingForward;
  return forward(x, channels, gamma, beta, epsilon, relu);
}

/** The training backward: gx (null unless `needInput`), gGamma and gBeta, from x and the forward's mean and invStd. */
export function trainingBackward(
  x: Float32Array, gy: Float32Array, mean: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, needInput: boolean, opts: TrainingBackwardOptions = {},
): BatchNormGrads {
  const backward = useWasm(x.length) ? trainingBackwardWasm : fastBackward.trainingBackward;
  return backward(x, gy, mean, invStd, gamma, needInput, opts);
}
