/**
 * Layer and group normalization as fused ops: statistics per example (and
 * per group), never across the batch, so training and inference compute the
 * same thing and there are no moving statistics.
 *
 * Per normalization group of m values (kernels/group-norm-reference.ts):
 *   xHat = (x - mean) / sqrt(var + epsilon),   y = gamma * xHat + beta   (var biased)
 * Backward, the closed form of batch norm with the group in place of the channel:
 *   gBeta = sum gy,  gGamma = sum gy * xHat   (per channel, over examples and positions)
 *   gx = invStd/m * (m*gxHat - sum(gxHat) - xHat*sum(gxHat*xHat)),  gxHat = gy * gamma
 */
import { checkInteger, checkOptions, describe } from '../../tensor/options.js';
import { formatShape, type Shape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { groupNormBackward, groupNormForward, type GroupLayout } from '../../tensor/kernels/group-norm.js';
import { record } from '../graph.js';

/** Options of `groupNormalization`. */
export interface GroupNormalizationOptions {
  /** Number of groups G; the channels (last axis) must be divisible by it. -1 means one group per channel (instance norm). */
  groups: number;
  /** Added to the variance (default 1e-3, Keras). */
  epsilon?: number;
}

/** Options of `layerNormalization`. */
export interface LayerNormalizationOptions {
  /** The normalized axes: the last one (default -1) or a list of trailing axes, e.g. [1, 2, 3] for NHWC. */
  axis?: number | readonly number[];
  /** Added to the variance (default 1e-3, Keras). */
  epsilon?: number;
}

/** `epsilon` checked as a positive finite number for `owner`; returns it. */
export function checkEpsilon(owner: string, epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !(epsilon > 0) || epsilon === Infinity) {
    throw new Error(`${owner}: epsilon must be a positive finite number, got ${describe(epsilon)}`);
  }
  return epsilon;
}

function checkAffine(op: string, x: Tensor, shape: Shape, named: Record<string, Tensor | null>): void {
  for (const name in named) {
    const t = named[name];
    if (t && formatShape(t.shape) !== formatShape(shape)) {
      throw new Error(`${op}: ${name} ${formatShape(t.shape)} must be ${formatShape(shape)} for input ${formatShape(x.shape)}`);
    }
  }
}

/** The fused op on layout `l`; gamma and beta (null: 1 and 0) are per channel g*K + k. */
function normalizeGroups(op: string, x: Tensor, gamma: Tensor | null, beta: Tensor | null, l: GroupLayout, epsilon: number): Tensor {
  const { y, mean, invStd } = groupNormForward(x.data, l, gamma?.data ?? null, beta?.data ?? null, epsilon);
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  const g = gamma ? Float32Array.from(gamma.data) : null; // as this forward used it
  return record(op, y, x.shape, inputs, (gy) => {
    const { gx, gGamma, gBeta } = groupNormBackward(x.data, gy, l, mean, invStd, g, x.requiresGrad);
    return [gx, ...(gamma ? [gGamma] : []), ...(beta ? [gBeta] : [])];
  });
}

/** The trailing axes `axis` names, as positive indices; throws unless they are the last ones, each once. */
export function trailingAxes(op: string, rank: number, axis: number | readonly number[], shape: Shape): number[] {
  const list = typeof axis === 'number' ? [axis] : [...axis];
  if (list.length === 0 || list.some((a) => !Number.isInteger(a) || a < -rank || a >= rank)) {
    throw new Error(`${op}: axis ${describe(axis)} is out of range for input ${formatShape(shape)}`);
  }
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length !== list.length || axes[axes.length - 1] !== rank - 1 || axes[0] !== rank - axes.length || axes[0] === 0) {
    throw new Error(`${op}: axis ${describe(axis)} must name trailing axes after the batch axis (e.g. -1, or [1, 2, 3] for NHWC) of input ${formatShape(shape)}`);
  }
  return axes;
}

/**
 * Layer normalization (Ba, Kiros and Hinton, 2016) over the trailing axes:
 * each example (each row of the leading axes) is normalized over its own
 * values; gamma and beta have the shape of the normalized axes (or are null).
 * PyTorch's F.layer_norm(x, x.shape[first:], gamma, beta, epsilon).
 *
 * @example
 * const x = randomNormal([4, 10], { seed: 1 });
 * const y = layerNormalization(x, ones([10]), zeros([10]), { axis: -1, epsilon: 1e-3 }); // each row: mean 0, variance ~1
 */
export function layerNormalization(x: Tensor, gamma: Tensor | null, beta: Tensor | null, opts: LayerNormalizationOptions = {}): Tensor {
  const op = 'layerNormalization';
  checkOptions(op, opts, ['axis', 'epsilon']);
  const epsilon = checkEpsilon(op, opts.epsilon ?? 1e-3);
  if (x.rank < 2) throw new Error(`${op}: input must be [N, ...] with at least 2 axes, got ${formatShape(x.shape)}`);
  const axes = trailingAxes(op, x.rank, opts.axis ?? -1, x.shape);
  const normalized = x.shape.slice(axes[0]);
  checkAffine(op, x, normalized, { gamma, beta });
  const d = normalized.reduce((a, b) => a * b, 1);
  return normalizeGroups(op, x, gamma, beta, { n: x.size / d, s: 1, g: 1, k: d }, epsilon);
}

/**
 * Group normalization (Wu and He, 2018), channels last: each example's
 * channels are split into `groups` consecutive groups, and each group is
 * normalized over its channels and every position (H, W for NHWC); gamma and
 * beta are per channel, [C] (or null). groups = C is instance normalization,
 * groups = 1 normalizes the whole example. PyTorch's F.group_norm on the
 * channels-first permutation.
 *
 * @example
 * const x = randomNormal([2, 5, 5, 6], { seed: 1 });               // NHWC, 6 channels
 * const y = groupNormalization(x, ones([6]), zeros([6]), { groups: 3 }); // 3 groups of 2 channels
 */
export function groupNormalization(x: Tensor, gamma: Tensor | null, beta: Tensor | null, opts: GroupNormalizationOptions): Tensor {
  const op = 'groupNormalization';
  if (opts === undefined) throw new Error(`${op}: options { groups } are required`);
  checkOptions(op, opts, ['groups', 'epsilon']);
  const epsilon = checkEpsilon(op, opts.epsilon ?? 1e-3);
  if (x.rank < 2) throw new Error(`${op}: input must be [N, ..., C] with at least 2 axes, got ${formatShape(x.shape)}`);
  const c = x.shape[x.rank - 1]!;
  const groups = resolveGroups(op, opts.groups, c, x.shape);
  checkAffine(op, x, [c], { gamma, beta });
  const n = x.shape[0]!;
  return normalizeGroups(op, x, gamma, beta, { n, s: n === 0 || c === 0 ? 0 : x.size / (n * c), g: groups, k: c / groups }, epsilon);
}

/** `groups` checked against the channel count (-1: one per channel). */
export function resolveGroups(op: string, groups: unknown, channels: number, shape: Shape): number {
  if (groups === -1) return channels;
  const g = checkInteger(op, 'groups', groups, 1);
  if (channels % g !== 0) {
    throw new Error(`${op}: channels ${channels} not divisible by groups ${g} (input ${formatShape(shape)})`);
  }
  return g;
}
