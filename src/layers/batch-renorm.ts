/**
 * Batch renormalization's bookkeeping for the BatchNorm layer, following
 * tf.keras' BatchNormalization(renorm=True) step by step.
 *
 * State (all per channel, non-trainable, in stateDict):
 *   renormMean, renormStddev  the averages r and d are measured against,
 *                             updated with renormMomentum (init 0 and 1)
 *   movingStddev              the inference average of sqrt(var + eps),
 *                             updated with momentum (init 1)
 *   movingMean, movingVariance the inference statistics, as without renorm
 *
 * A training call, with the batch's mean and (biased) variance:
 *   stddev = sqrt(var + eps),  s = max(renormStddev, sqrt(eps))
 *   r = clip(stddev / s, rMin, rMax),  d = clip((mean - renormMean) / s, -dMax, dMax)
 *     (from the values before this call's update; constants in the backward pass)
 *   y = gamma * (xHat * r + d) + beta
 *   renormMean   = renormMomentum * renormMean   + (1 - renormMomentum) * mean
 *   renormStddev = renormMomentum * renormStddev + (1 - renormMomentum) * stddev
 *   movingMean   = momentum * movingMean   + (1 - momentum) * mean
 *   movingStddev = momentum * movingStddev + (1 - momentum) * sqrt(var' + eps)
 *   movingVariance = max(movingStddev^2 - eps, 0)
 * where var' is var (movingVariance 'biased', exactly Keras) or
 * m/(m-1) * var ('unbiased', the layer's default, as without renorm).
 *
 * Clipping bounds are fixed as in Keras; to ramp them as the paper does, assign
 * `bn.renormClipping` before each step (docs/norms.md).
 */
import { checkNumber, checkOptions, describe } from '../tensor/options.js';

/** Renorm's clipping bounds: r in [rMin, rMax], d in [-dMax, dMax]. A missing bound does not clip. */
export interface RenormClipping {
  /** Upper bound of r (>= 1). */
  rMax?: number;
  /** Lower bound of r (in [0, 1]); default 1 / rMax when rMax is given (the paper), else none. Keras' default is none: pass rMin: 0. */
  rMin?: number;
  /** Bound of |d| (>= 0). */
  dMax?: number;
}

/** The bounds as used: every one a number (Infinity / 0 for none). */
export interface ResolvedClipping {
  /** Lower bound of r (0: none). */
  rMin: number;
  /** Upper bound of r (Infinity: none). */
  rMax: number;
  /** Bound of |d| (Infinity: none). */
  dMax: number;
}

/** `clipping` checked for `owner`, with its defaults filled in. */
export function resolveClipping(owner: string, clipping: unknown): ResolvedClipping {
  if (clipping === null || typeof clipping !== 'object' || Array.isArray(clipping)) {
    throw new Error(`${owner}: renormClipping must be an object { rMax, rMin, dMax }, got ${describe(clipping)}`);
  }
  checkOptions(`${owner} renormClipping`, clipping, ['rMax', 'rMin', 'dMax']);
  const c = clipping as RenormClipping;
  const rMax = c.rMax === undefined ? Infinity : checkNumber(owner, 'renormClipping.rMax', c.rMax, 1);
  const rMin = c.rMin === undefined ? (c.rMax === undefined ? 0 : 1 / rMax) : checkNumber(owner, 'renormClipping.rMin', c.rMin, 0, 1);
  const dMax = c.dMax === undefined ? Infinity : checkNumber(owner, 'renormClipping.dMax', c.dMax, 0);
  return { rMin, rMax, dMax };
}

/** The renorm state a BatchNorm holds. */
export interface RenormState {
  renormMean: Float32Array;
  renormStddev: Float32Array;
  movingMean: Float32Array;
  movingStddev: Float32Array;
  movingVariance: Float32Array;
}

/** r and d for this batch, from the state before its update (see the top of the file). NaN stays NaN. */
export function renormCorrection(
  mean: Float32Array, variance: Float32Array, state: RenormState, epsilon: number, clip: ResolvedClipping,
): { r: Float32Array; d: Float32Array } {
  const c = mean.length;
  const r = new Float32Array(c);
  const d = new Float32Array(c);
  const floor = Math.sqrt(epsilon);
  for (let k = 0; k < c; k++) {
    const s = Math.max(state.renormStddev[k]!, floor);
    const rk = Math.sqrt(variance[k]! + epsilon) / s;
    const dk = (mean[k]! - state.renormMean[k]!) / s;
    r[k] = Number.isNaN(rk) ? NaN : Math.min(Math.max(rk, clip.rMin), clip.rMax);
    d[k] = Number.isNaN(dk) ? NaN : Math.min(Math.max(dk, -clip.dMax), clip.dMax);
  }
  return { r, d };
}

/** The updates of a training call (see the top of the file), in place. `bessel` is m/(m-1) or 1. */
export function updateRenormStatistics(
  state: RenormState, mean: Float32Array, variance: Float32Array, epsilon: number,
  momentum: number, renormMomentum: number, bessel: number,
): void {
  const a = momentum;
  const b = renormMomentum;
  for (let k = 0; k < mean.length; k++) {
    const stddev = Math.sqrt(variance[k]! + epsilon);
    state.renormMean[k] = b * state.renormMean[k]! + (1 - b) * mean[k]!;
    state.renormStddev[k] = b * state.renormStddev[k]! + (1 - b) * stddev;
    state.movingMean[k] = a * state.movingMean[k]! + (1 - a) * mean[k]!;
    const ms = a * state.movingStddev[k]! + (1 - a) * Math.sqrt(bessel * variance[k]! + epsilon);
    state.movingStddev[k] = ms;
    const mv = Math.fround(ms) ** 2 - epsilon;
    state.movingVariance[k] = Number.isNaN(mv) ? NaN : Math.max(mv, 0);
  }
}
