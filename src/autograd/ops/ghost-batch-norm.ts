/**
 * Ghost batch normalization (Hoffer, Hubara and Soudry, 2017), Keras'
 * `virtual_batch_size`: in training, the batch of B examples is split into
 * G = B / V virtual batches of V examples, each normalized with its own
 * statistics by the ordinary training-mode batch norm.
 *
 * Which examples share a virtual batch follows Keras exactly: it reshapes
 * x [B, ...] to [V, G, ...] and reduces over axis 0 (and the spatial axes),
 * so virtual batch j holds examples j, j + G, j + 2G, ... (strided, not
 * consecutive).
 *
 * Per virtual batch j (over its m = V * H * W values per channel):
 *   y_j = batchNorm(x_j),  gx_j = batchNorm's closed-form backward of gy_j
 *   gGamma = sum_j gGamma_j,  gBeta = sum_j gBeta_j
 * The statistics returned (for the moving averages) are Keras' too: the
 * mean over the virtual batches of their means and of their biased variances.
 */
import { checkBoolean, checkInteger, checkOptions } from '../../tensor/options.js';
import { formatShape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import * as bn from '../../tensor/kernels/batch-norm.js';
import { record } from '../graph.js';
import type { BatchNormTrainingResult } from './batch-norm.js';

/** Options of `ghostBatchNormTraining`. */
export interface GhostBatchNormOptions {
  /** Examples per virtual batch, V; it must divide the batch size. */
  virtualBatchSize: number;
  /** Apply a ReLU to the output in the same op (as batchNormTraining's `relu`). */
  relu?: boolean;
}

/** The virtual batches of x as [V, G, rest]: rows j, j + G, ... of each ghost. */
class Ghosts {
  readonly count: number;
  readonly row: number;
  constructor(readonly op: string, readonly x: Tensor, readonly v: number) {
    const b = x.shape[0]!;
    if (b % v !== 0) {
      throw new Error(`${op}: batch ${b} of input ${formatShape(x.shape)} is not divisible by virtualBatchSize ${v}`);
    }
    this.count = b / v;
    this.row = x.size / b;
  }

  /** Copies virtual batch j of `data` (laid out like x) into a contiguous [V, rest] array. */
  gather(data: Float32Array, j: number): Float32Array {
    const out = new Float32Array(this.v * this.row);
    for (let t = 0; t < this.v; t++) out.set(data.subarray((t * this.count + j) * this.row, (t * this.count + j + 1) * this.row), t * this.row);
    return out;
  }

  /** Writes a contiguous [V, rest] array back as virtual batch j of `into`. */
  scatter(part: Float32Array, j: number, into: Float32Array): void {
    for (let t = 0; t < this.v; t++) into.set(part.subarray(t * this.row, (t + 1) * this.row), (t * this.count + j) * this.row);
  }
}

/** mean_c = (1/G) sum_j mean_jc, likewise the variances (Keras' update statistics). */
function averaged(parts: Float32Array[]): Float32Array {
  const sum = new Float64Array(parts[0]!.length);
  for (const p of parts) for (let c = 0; c < p.length; c++) sum[c]! += p[c]!;
  return Float32Array.from(sum, (s) => s / parts.length);
}

/**
 * The per-virtual-batch moments averaged over the virtual batches (what
 * Keras' renorm corrections and moving averages use), and m per virtual batch.
 *
 * @example
 * ghostMoments(x, 4); // x [16, C]: 4 virtual batches of 4 examples
 */
export function ghostMoments(x: Tensor, virtualBatchSize: number): { mean: Float32Array; variance: Float32Array; count: number } {
  const ghosts = new Ghosts('ghostMoments', x, virtualBatchSize);
  const c = x.shape[x.rank - 1]!;
  const moments = Array.from({ length: ghosts.count }, (_, j) => bn.channelMoments(ghosts.gather(x.data, j), c));
  return { mean: averaged(moments.map((m) => m.mean)), variance: averaged(moments.map((m) => m.variance)), count: x.size / c / ghosts.count };
}

/**
 * Training-mode batch norm per virtual batch (see the top of the file).
 * Differentiable in x, gamma and beta; `mean`/`variance` are the averages
 * over the virtual batches and `count` is m per virtual batch.
 *
 * @example
 * const { y } = ghostBatchNormTraining(randomNormal([32, 4], { seed: 1 }), ones([4]), zeros([4]), 1e-3, { virtualBatchSize: 8 });
 */
export function ghostBatchNormTraining(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number, opts: GhostBatchNormOptions,
): BatchNormTrainingResult {
  const op = 'ghostBatchNormTraining';
  if (opts === undefined) throw new Error(`${op}: options { virtualBatchSize } are required`);
  checkOptions(op, opts, ['virtualBatchSize', 'relu']);
  const v = checkInteger(op, 'virtualBatchSize', opts.virtualBatchSize, 1);
  const relu = checkBoolean(op, 'relu', opts.relu ?? false);
  if (x.rank < 2) throw new Error(`${op}: input must be [N, ..., C], got ${formatShape(x.shape)}`);
  const c = x.shape[x.rank - 1]!;
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new Error(`${op}: ${name} ${formatShape(t.shape)} must be [${c}] for input ${formatShape(x.shape)}`);
  }
  const ghosts = new Ghosts(op, x, v);
  const m = x.size / c / ghosts.count;
  if (!(m >= 2)) {
    throw new Error(`${op}: training needs at least 2 values per channel in each virtual batch, input ${formatShape(x.shape)} with virtualBatchSize ${v} has ${m}`);
  }
  const g = gamma ? Float32Array.from(gamma.data) : null; // as this forward used them
  const b = beta ? Float32Array.from(beta.data) : null;
  const y = new Float32Array(x.size);
  const parts = Array.from({ length: ghosts.count }, (_, j) => {
    const xj = ghosts.gather(x.data, j);
    const f = bn.trainingForward(xj, c, g, b, epsilon, relu);
    ghosts.scatter(f.y, j, y);
    return { xj, mean: f.mean, variance: f.variance, invStd: f.invStd };
  });
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  const out = record(relu ? 'ghostBatchNormRelu' : 'ghostBatchNorm', y, x.shape, inputs, (gy) => {
    const gx = x.requiresGrad ? new Float32Array(x.size) : null;
    const gGamma = new Float32Array(c);
    const gBeta = new Float32Array(c);
    parts.forEach((p, j) => {
      const r = bn.trainingBackward(p.xj, ghosts.gather(gy, j), p.mean, p.invStd, g, gx !== null, { relu, beta: b });
      if (gx) ghosts.scatter(r.gx!, j, gx);
      for (let k = 0; k < c; k++) {
        gGamma[k]! += r.gGamma[k]!;
        gBeta[k]! += r.gBeta[k]!;
      }
    });
    return [gx, ...(gamma ? [gGamma] : []), ...(beta ? [gBeta] : [])];
  });
  return { y: out, mean: averaged(parts.map((p) => p.mean)), variance: averaged(parts.map((p) => p.variance)), count: m };
}
