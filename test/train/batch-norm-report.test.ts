/**
 * batchNormReport: flags on constructed cases, statistics against naive
 * float64 moments (tolerance 1e-5 relative + 1e-6 absolute), the
 * inference-mode choice, and no side effects (state compared bit for bit).
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { ReLU } from '../../src/layers/activations.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Dense } from '../../src/layers/dense.js';
import { Sequential } from '../../src/layers/sequential.js';
import { batchNormReport, formatBatchNormReport } from '../../src/train/batch-norm-report.js';
import { expectClose } from '../helpers.js';

/** [n, c] data: column j ~ offsets[j] + scales[j] * N(0, 1). */
function data(n: number, seed: number, offsets: number[], scales: number[]): Tensor {
  const rng = new Random(seed);
  const c = offsets.length;
  return new Tensor(Float32Array.from({ length: n * c }, (_, i) => offsets[i % c]! + scales[i % c]! * rng.normal()), [n, c]);
}

function naiveMoments(x: Tensor): { mean: number[]; variance: number[] } {
  const c = x.shape[x.rank - 1]!;
  const m = x.size / c;
  const mean = Array.from({ length: c }, (_, k) => { let s = 0; for (let i = k; i < x.size; i += c) s += x.data[i]!; return s / m; });
  const variance = mean.map((mu, k) => { let s = 0; for (let i = k; i < x.size; i += c) s += (x.data[i]! - mu) ** 2; return s / m; });
  return { mean, variance };
}

function bits(model: Sequential): Map<string, number[]> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size))]));
}

function net(): Sequential {
  return new Sequential([new Dense(4), new BatchNorm({ momentum: 0.5 }), new ReLU(), new Dense(3), new BatchNorm({ momentum: 0.5 })]);
}

describe('batchNormReport', () => {
  const x = data(32, 1, [5, -3, 1], [2, 1, 0.5]);

  it('flags a fresh model as untouched, and not after training calls', () => {
    const model = net();
    model.call(x, { isTraining: false });
    const fresh = batchNormReport(model, x);
    expect(fresh.map((l) => [l.name, l.untouched])).toEqual([['bn1', true], ['bn2', true]]);
    for (let s = 0; s < 20; s++) model.call(data(32, 10 + s, [5, -3, 1], [2, 1, 0.5]), { isTraining: true });
    const trained = batchNormReport(model, x);
    expect(trained.map((l) => l.untouched)).toEqual([false, false]);
    // bn1's input does not depend on any BN: after 20 EMA steps (momentum 0.5) its statistics fit the data.
    expect(trained[0]!.largeGap).toBe(false);
    expect(fresh[0]!.largeGap).toBe(true); // Dense(4) of data around (5, -3, 1) is far from mean 0
  });

  it('untouched needs both: mean all 0 and variance all 1', () => {
    const bn = new BatchNorm();
    const model = new Sequential([bn]);
    model.call(x, { isTraining: false });
    bn.movingVariance!.data[2] = 2;
    expect(batchNormReport(model, x)[0]!.untouched).toBe(false);
    bn.movingVariance!.data[2] = 1;
    bn.movingMean!.data[0] = 0.5;
    expect(batchNormReport(model, x)[0]!.untouched).toBe(false);
    bn.movingMean!.data[0] = 0;
    expect(batchNormReport(model, x)[0]!.untouched).toBe(true);
  });

  it('reports the batch moments at the layer input and the gap and ratio per channel', () => {
    const bn = new BatchNorm({ epsilon: 0.01, movingVariance: 'unbiased' });
    const model = new Sequential([bn]);
    model.call(x, { isTraining: false });
    bn.movingMean!.data.set([5, -3, 2]);
    bn.movingVariance!.data.set([4, 1, 0.25]);
    const [r] = batchNormReport(model, x);
    const { mean, variance } = naiveMoments(x);
    const batchVar = variance.map((v) => (v * 32) / 31); // same kind as an 'unbiased' moving variance
    expectClose(r!.batchMean, mean, { atol: 1e-6, rtol: 1e-5 });
    expectClose(r!.batchVariance, batchVar, { atol: 1e-6, rtol: 1e-5 });
    expectClose(r!.meanGap, mean.map((mu, c) => Math.abs(mu - [5, -3, 2][c]!) / Math.sqrt([4, 1, 0.25][c]! + 0.01)), { atol: 1e-6, rtol: 1e-5 });
    expectClose(r!.varianceRatio, batchVar.map((v, c) => (v + 0.01) / ([4, 1, 0.25][c]! + 0.01)), { atol: 1e-6, rtol: 1e-5 });
    expect(r!.count).toBe(32);
    expect(Array.from(r!.movingMean)).toEqual([5, -3, 2]);
    // Channel 2: mean ~1 against a moving mean of 2 with std 0.5 -> gap ~2.
    expect(r!.gapChannels).toEqual([2]);
    expect(r!.largeGap).toBe(true);
  });

  it('flags a moving variance far from the batch variance, with thresholds as options', () => {
    const bn = new BatchNorm();
    const model = new Sequential([bn]);
    model.call(x, { isTraining: false });
    const { mean, variance } = naiveMoments(x);
    bn.movingMean!.data.set(mean);
    bn.movingVariance!.data.set(variance.map((v, c) => (c === 1 ? v * 10 : v)));
    expect(batchNormReport(model, x)[0]!.gapChannels).toEqual([1]);
    expect(batchNormReport(model, x, { varianceRatioRange: [0.05, 20] })[0]!.largeGap).toBe(false);
    bn.movingMean!.data[0] = mean[0]! + 0.4 * Math.sqrt(variance[0]!);
    bn.movingVariance!.data.set(variance);
    expect(batchNormReport(model, x)[0]!.largeGap).toBe(false); // gap 0.4 < 0.5
    expect(batchNormReport(model, x, { maxMeanGap: 0.3 })[0]!.gapChannels).toEqual([0]);
    expect(() => batchNormReport(model, x, { varianceRatioRange: [2, 3] })).toThrow(/bad thresholds/);
    expect(() => batchNormReport(net(), x)).toThrow(/layer 'dense\d+' is not built/);
  });

  it('flags channels fed a constant as dead: a constant input column, and a Dense unit with a zero kernel column', () => {
    const constant = new Tensor(Float32Array.from(x.data, (v, i) => (i % 3 === 1 ? 7 : v)), [32, 3]);
    const alone = new Sequential([new BatchNorm()]);
    alone.call(constant, { isTraining: false });
    expect(batchNormReport(alone, constant)[0]!.deadChannels).toEqual([1]);

    const model = net();
    model.call(x, { isTraining: false });
    const dense2 = model.layers[3] as Dense;
    for (let i = 0; i < 4; i++) dense2.kernel!.data[i * 3 + 2] = 0; // unit 2 = bias only
    const report = batchNormReport(model, x);
    expect(report[0]!.deadChannels).toEqual([]);
    expect(report[1]!.deadChannels).toEqual([2]);
  });

  it('runs in inference mode: layer 2 sees layer 1 normalized with its moving statistics', () => {
    const model = net();
    model.call(x, { isTraining: false });
    const [, , , dense2, bn2] = model.layers;
    let h = x;
    for (const layer of model.layers.slice(0, 4)) h = layer.call(h, { isTraining: false });
    const report = batchNormReport(model, x);
    expectClose(report[1]!.batchMean, naiveMoments(h).mean, { atol: 1e-6, rtol: 1e-5 });
    expect(dense2).toBeInstanceOf(Dense);
    expect(bn2).toBeInstanceOf(BatchNorm);
  });

  it('changes nothing: state bit-identical, no observer left behind, no graph recorded', () => {
    const model = net();
    for (let s = 0; s < 3; s++) model.call(data(16, 20 + s, [1, 2, 3], [1, 1, 1]), { isTraining: true });
    const before = bits(model);
    batchNormReport(model, x);
    expect(bits(model)).toEqual(before);
    const bns = model.layers.filter((l): l is BatchNorm => l instanceof BatchNorm);
    expect(bns.every((b) => b.statisticsObserver === null)).toBe(true);
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('marks frozen layers and formats a fixed-width table', () => {
    const model = net();
    model.call(x, { isTraining: false });
    (model.layers[4] as BatchNorm).trainable = false;
    const report = batchNormReport(model, x);
    expect(report[1]!.frozen).toBe(true);
    const text = formatBatchNormReport(report);
    const lines = text.split('\n');
    expect(lines.length).toBe(3);
    const col = lines[0]!.indexOf('flags');
    expect(lines[1]!.slice(0, 3)).toBe('bn1');
    expect(lines[1]!.slice(col)).toMatch(/^UNTOUCHED GAP\(\d\)/);
    expect(lines[2]!.slice(col)).toMatch(/^UNTOUCHED .*frozen$/);
    const detailed = formatBatchNormReport(report, { perChannel: true }).split('\n');
    // Table header, then per flagged layer: its row, a channel header and one line per channel.
    expect(detailed.length).toBe(1 + (1 + 1 + 4) + (1 + 1 + 3));
  });
});
