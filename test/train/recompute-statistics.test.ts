/**
 * recomputeBatchNormStatistics against the paper's population estimate,
 * computed here by running the sub-network by hand with naive float64 loops
 * (independent of the engine's kernels). Tolerance for statistics: 1e-4
 * relative + 1e-5 absolute (float32 matmul and normalization upstream of
 * layer 2 against a float64 reference).
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { ReLU } from '../../src/layers/activations.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Dense } from '../../src/layers/dense.js';
import { Sequential } from '../../src/layers/sequential.js';
import { recomputeBatchNormStatistics } from '../../src/train/recompute-statistics.js';
import { expectClose } from '../helpers.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

type Rows = number[][];

function randomRows(n: number, d: number, rng: Random, offsets: number[]): Rows {
  return Array.from({ length: n }, () => Array.from({ length: d }, (_, j) => offsets[j]! + rng.normal() * (1 + j)));
}

const toTensor = (rows: Rows): Tensor => new Tensor(Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
const rowsOf = (t: Tensor): Rows => Array.from({ length: t.shape[0]! }, (_, i) => Array.from(t.data.subarray(i * t.shape[1]!, (i + 1) * t.shape[1]!)));

// Naive reference pieces, float64.
function dense(x: Rows, w: Rows, b?: number[]): Rows {
  return x.map((row) => w[0]!.map((_, j) => row.reduce((s, v, i) => s + v * w[i]![j]!, b?.[j] ?? 0)));
}
function moments(x: Rows): { mean: number[]; variance: number[] } {
  const m = x.length;
  const mean = x[0]!.map((_, c) => x.reduce((s, r) => s + r[c]!, 0) / m);
  const variance = x[0]!.map((_, c) => x.reduce((s, r) => s + (r[c]! - mean[c]!) ** 2, 0) / m);
  return { mean, variance };
}
function bnTrain(x: Rows, gamma: number[], beta: number[], eps: number): Rows {
  const { mean, variance } = moments(x);
  return x.map((r) => r.map((v, c) => (gamma[c]! * (v - mean[c]!)) / Math.sqrt(variance[c]! + eps) + beta[c]!));
}
const relu = (x: Rows): Rows => x.map((r) => r.map((v) => Math.max(v, 0)));

function bitsOf(t: Tensor): number[] {
  return Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));
}
function snapshot(model: Sequential): Map<string, number[]> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, bitsOf(t)]));
}

/** dense1 (no bias) -> bn1 -> relu -> dense2 -> bn2, built, with nontrivial gamma/beta. */
function twoLayerNet(mode: 'unbiased' | 'biased'): { model: Sequential; bn1: BatchNorm; bn2: BatchNorm; d1: Dense; d2: Dense } {
  const d1 = new Dense(4, { useBias: false });
  const bn1 = new BatchNorm({ momentum: 0.9, epsilon: 1e-3, movingVariance: mode });
  const d2 = new Dense(3);
  const bn2 = new BatchNorm({ momentum: 0.9, epsilon: 1e-2, movingVariance: mode });
  const model = new Sequential([d1, bn1, new ReLU(), d2, bn2]);
  model.call(new Tensor(new Float32Array(2 * 3), [2, 3]), { isTraining: false });
  bn1.gamma!.data.set([1.5, 0.5, 2, 1]);
  bn1.beta!.data.set([0.3, -0.2, 0.1, 0.5]);
  bn2.gamma!.data.set([0.7, 1.3, 1]);
  bn2.beta!.data.set([1, 0, -1]);
  d2.bias!.data.set([0.5, -0.5, 2]);
  return { model, bn1, bn2, d1, d2 };
}

/** Input batches of 6 rows (m = 6, correction 6/5) around offsets far from 0. */
function batches(count: number, seed: number, size = 6): Rows[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => randomRows(size, 3, rng, [10, -4, 2]));
}

/** The paper's estimate, by hand: average batch moments, bn1 normalizing with batch statistics. */
function expectedStatistics(net: ReturnType<typeof twoLayerNet>, xs: Rows[], mode: 'unbiased' | 'biased') {
  const w1 = rowsOf(net.d1.kernel!);
  const w2 = rowsOf(net.d2.kernel!);
  const sums = { m1: [0, 0, 0, 0], v1: [0, 0, 0, 0], m2: [0, 0, 0], v2: [0, 0, 0] };
  for (const x of xs) {
    const h1 = dense(x, w1);
    const a1 = relu(bnTrain(h1, Array.from(net.bn1.gamma!.data), Array.from(net.bn1.beta!.data), net.bn1.epsilon));
    const h2 = dense(a1, w2, Array.from(net.d2.bias!.data));
    const s1 = moments(h1);
    const s2 = moments(h2);
    const k = mode === 'unbiased' ? x.length / (x.length - 1) : 1; // m/(m-1) per batch
    s1.mean.forEach((v, c) => (sums.m1[c]! += v / xs.length));
    s1.variance.forEach((v, c) => (sums.v1[c]! += (k * v) / xs.length));
    s2.mean.forEach((v, c) => (sums.m2[c]! += v / xs.length));
    s2.variance.forEach((v, c) => (sums.v2[c]! += (k * v) / xs.length));
  }
  return sums;
}

describe('recomputeBatchNormStatistics', () => {
  for (const mode of ['unbiased', 'biased'] as const) {
    it(`${mode}: moving statistics become the averages of the batch moments, layer 2 seeing layer 1 in training mode`, () => {
      const net = twoLayerNet(mode);
      const xs = batches(5, 1);
      const summary = recomputeBatchNormStatistics(net.model, xs.map(toTensor));
      expect(summary).toEqual({ batches: 5, layers: { bn1: 5, bn2: 5 }, frozen: [] });
      const want = expectedStatistics(net, xs, mode);
      expectClose(net.bn1.movingMean!.data, want.m1, { atol: ATOL, rtol: RTOL });
      expectClose(net.bn1.movingVariance!.data, want.v1, { atol: ATOL, rtol: RTOL });
      expectClose(net.bn2.movingMean!.data, want.m2, { atol: ATOL, rtol: RTOL });
      expectClose(net.bn2.movingVariance!.data, want.v2, { atol: ATOL, rtol: RTOL });
    });
  }

  it('applies m/(m-1) exactly in the unbiased mode and never in the biased one (distinguishable at m = 6)', () => {
    const xs = batches(4, 2);
    const unbiased = twoLayerNet('unbiased');
    const biased = twoLayerNet('biased');
    recomputeBatchNormStatistics(unbiased.model, xs.map(toTensor));
    recomputeBatchNormStatistics(biased.model, xs.map(toTensor));
    const plain = expectedStatistics(biased, xs, 'biased');
    for (let c = 0; c < 4; c++) {
      // Same weights, so the biased averages are the same numbers in both nets.
      const ratio = unbiased.bn1.movingVariance!.data[c]! / biased.bn1.movingVariance!.data[c]!;
      expect(Math.abs(ratio - 6 / 5)).toBeLessThan(1e-4);
      expect(Math.abs(biased.bn1.movingVariance!.data[c]! - plain.v1[c]!)).toBeLessThanOrEqual(ATOL + RTOL * plain.v1[c]!);
      // ... and the correction is large enough that a tolerance of RTOL could not hide it.
      expect(Math.abs(plain.v1[c]! * (6 / 5) - plain.v1[c]!)).toBeGreaterThan(100 * RTOL * plain.v1[c]!);
    }
  });

  it('differs from the estimate with layer 1 in inference mode (the upstream mode matters here)', () => {
    const net = twoLayerNet('unbiased');
    const xs = batches(3, 3);
    recomputeBatchNormStatistics(net.model, xs.map(toTensor));
    // bn1 was at its initial 0/1 while the data sit near (10, -4, 2): inference-mode bn1
    // would feed bn2 very different values. Check that bn2 did not see those.
    const w1 = rowsOf(net.d1.kernel!);
    const w2 = rowsOf(net.d2.kernel!);
    const inferenceMode = xs.map((x) => {
      const a1 = relu(dense(x, w1).map((r) => r.map((v, c) => (net.bn1.gamma!.data[c]! * v) / Math.sqrt(1 + 1e-3) + net.bn1.beta!.data[c]!)));
      return moments(dense(a1, w2, Array.from(net.d2.bias!.data))).mean;
    });
    const wrongMean = [0, 1, 2].map((c) => inferenceMode.reduce((s, m) => s + m[c]!, 0) / xs.length);
    const gap = wrongMean.map((v, c) => Math.abs(v - net.bn2.movingMean!.data[c]!));
    expect(Math.max(...gap)).toBeGreaterThan(0.1);
  });

  it('a smaller last batch gets its own m/(m-1); every batch weighs the same', () => {
    const bn = new BatchNorm({ movingVariance: 'unbiased' });
    const model = new Sequential([bn]);
    const rng = new Random(4);
    const xs = [randomRows(6, 2, rng, [1, 2]), randomRows(6, 2, rng, [1, 2]), randomRows(3, 2, rng, [1, 2])];
    model.call(toTensor(xs[0]!), { isTraining: false });
    recomputeBatchNormStatistics(model, xs.map(toTensor));
    const s = xs.map(moments);
    const want = [0, 1].map((c) => (s[0]!.variance[c]! * 6 / 5 + s[1]!.variance[c]! * 6 / 5 + s[2]!.variance[c]! * 3 / 2) / 3);
    expectClose(bn.movingVariance!.data, want, { atol: ATOL, rtol: RTOL });
    expectClose(bn.movingMean!.data, [0, 1].map((c) => s.reduce((a, b) => a + b.mean[c]!, 0) / 3), { atol: ATOL, rtol: RTOL });
  });

  it('counts N*H*W values per channel for NHWC input', () => {
    const bn = new BatchNorm({ movingVariance: 'unbiased' });
    const model = new Sequential([bn]);
    const rng = new Random(5);
    const data = Float32Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => (i % 2 === 0 ? 5 : -1) + rng.normal());
    const x = new Tensor(data, [2, 3, 3, 2]);
    model.call(x, { isTraining: false });
    recomputeBatchNormStatistics(model, [x]);
    const rows = Array.from({ length: 18 }, (_, i) => [data[2 * i]!, data[2 * i + 1]!]);
    const { mean, variance } = moments(rows);
    expectClose(bn.movingMean!.data, mean, { atol: ATOL, rtol: RTOL });
    expectClose(bn.movingVariance!.data, variance.map((v) => (v * 18) / 17), { atol: ATOL, rtol: RTOL });
  });

  it('leaves every weight bit-identical, records no graph and restores the observers', () => {
    const net = twoLayerNet('unbiased');
    const before = snapshot(net.model);
    recomputeBatchNormStatistics(net.model, batches(3, 6).map(toTensor));
    const after = snapshot(net.model);
    for (const [key, bits] of before) {
      if (key.endsWith('/movingMean') || key.endsWith('/movingVariance')) expect(after.get(key), key).not.toEqual(bits);
      else expect(after.get(key), key).toEqual(bits);
    }
    expect(net.model.parameters().every((p) => p.grad === null)).toBe(true);
    expect(net.bn1.statisticsObserver).toBeNull();
    expect(net.bn2.statisticsObserver).toBeNull();
  });

  it('leaves a frozen BatchNorm alone (it normalizes with its moving statistics) and still updates the others', () => {
    const net = twoLayerNet('unbiased');
    net.bn2.trainable = false;
    net.bn2.movingMean!.data.set([0.25, -0.5, 3]);
    const frozenBefore = [bitsOf(net.bn2.movingMean!), bitsOf(net.bn2.movingVariance!)];
    const xs = batches(3, 7);
    const summary = recomputeBatchNormStatistics(net.model, xs.map(toTensor));
    expect(summary).toEqual({ batches: 3, layers: { bn1: 3 }, frozen: ['bn2'] });
    expect([bitsOf(net.bn2.movingMean!), bitsOf(net.bn2.movingVariance!)]).toEqual(frozenBefore);
    const want = expectedStatistics(net, xs, 'unbiased');
    expectClose(net.bn1.movingMean!.data, want.m1, { atol: ATOL, rtol: RTOL });
  });

  it('accepts any iterable (a generator), and walks nested Sequentials with stateDict-style names', () => {
    const inner = new Sequential([new BatchNorm()], { name: 'block1' });
    const model = new Sequential([inner, new BatchNorm()]);
    const rng = new Random(8);
    model.call(toTensor(randomRows(4, 2, rng, [0, 0])), { isTraining: false });
    function* gen(): Generator<Tensor> {
      for (let i = 0; i < 3; i++) yield toTensor(randomRows(4, 2, rng, [3, 3]));
    }
    expect(recomputeBatchNormStatistics(model, gen()).layers).toEqual({ 'block1/bn1': 3, bn1: 3 });
  });

  it('fails without changing anything: an unusable batch midway, no batches, an unbuilt model', () => {
    const net = twoLayerNet('unbiased');
    const before = snapshot(net.model);
    const xs = [...batches(2, 9).map(toTensor), toTensor(batches(1, 10, 1)[0]!)];
    expect(() => recomputeBatchNormStatistics(net.model, xs)).toThrow(/at least 2 values per channel/);
    expect(snapshot(net.model)).toEqual(before);
    expect(net.bn1.statisticsObserver).toBeNull();
    expect(() => recomputeBatchNormStatistics(net.model, [])).toThrow(/no batches/);
    expect(snapshot(net.model)).toEqual(before);
    const fresh = new Sequential([new Dense(2), new BatchNorm()]);
    expect(() => recomputeBatchNormStatistics(fresh, batches(1, 11).map(toTensor))).toThrow(/'dense1' is not built/);
  });
});
