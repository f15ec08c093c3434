/**
 * Batch norm pinned against the classic mistakes. Reference statistics are
 * computed here with naive float64 loops, independent of the kernels.
 * Float32 tolerances: 1e-5 relative for statistics, 1e-4 for outputs.
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor, gradcheck, noGrad, tensor } from '../../src/index.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { batchNormalization, moments } from '../../src/autograd/ops/nn.js';
import { expectClose } from '../helpers.js';

function randomTensor(shape: number[], seed: number, channelOffsets?: number[]): Tensor {
  const rng = new Random(seed);
  const c = shape[shape.length - 1]!;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (channelOffsets?.[i % c] ?? 0) + rng.normal() * (1 + (i % c));
  return new Tensor(data, shape);
}

/** Per-channel mean and biased variance by a naive loop over every element. */
function naiveMoments(x: Tensor): { mean: number[]; variance: number[]; m: number } {
  const c = x.shape[x.rank - 1]!;
  const m = x.size / c;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (let i = 0; i < x.size; i++) mean[i % c]! += x.data[i]! / m;
  for (let i = 0; i < x.size; i++) variance[i % c]! += (x.data[i]! - mean[i % c]!) ** 2 / m;
  return { mean, variance, m };
}

describe('BatchNorm moving statistics', () => {
  it('starts at gamma 1, beta 0, moving mean 0, moving variance 1', () => {
    const bn = new BatchNorm();
    bn.call(randomTensor([4, 3], 1), { isTraining: false });
    expect(Array.from(bn.gamma!.data)).toEqual([1, 1, 1]);
    expect(Array.from(bn.beta!.data)).toEqual([0, 0, 0]);
    expect(Array.from(bn.movingMean!.data)).toEqual([0, 0, 0]);
    expect(Array.from(bn.movingVariance!.data)).toEqual([1, 1, 1]);
  });

  it('a training call updates the moving statistics once; an inference call never does', () => {
    const bn = new BatchNorm({ momentum: 0.9 });
    const x = randomTensor([8, 3], 2, [5, -2, 0]);
    bn.call(x, { isTraining: true });
    const { mean, variance, m } = naiveMoments(x);
    // moving = 0.9 * initial + 0.1 * batch (variance with Bessel's m/(m-1))
    expectClose(bn.movingMean!.data, mean.map((v) => 0.1 * v), { atol: 1e-6, rtol: 1e-5 });
    expectClose(bn.movingVariance!.data, variance.map((v) => 0.9 + (0.1 * v * m) / (m - 1)), { atol: 1e-6, rtol: 1e-5 });
    const before = [Float32Array.from(bn.movingMean!.data), Float32Array.from(bn.movingVariance!.data)];
    bn.call(randomTensor([8, 3], 3, [100, 100, 100]), { isTraining: false });
    expect(bn.movingMean!.data).toEqual(before[0]);
    expect(bn.movingVariance!.data).toEqual(before[1]);
  });

  it('an inference call that builds the layer leaves the statistics at their initial values', () => {
    const bn = new BatchNorm();
    const y = bn.call(tensor([[10, 20], [30, 40]]), { isTraining: false });
    expect(Array.from(bn.movingMean!.data)).toEqual([0, 0]);
    expect(Array.from(bn.movingVariance!.data)).toEqual([1, 1]);
    // y = x / sqrt(1 + 1e-3)
    expectClose(y.data, [10, 20, 30, 40].map((v) => v / Math.sqrt(1.001)), { atol: 1e-6, rtol: 1e-5 });
  });

  it('computes statistics per channel over N, H and W (distinct sizes, channels around different values)', () => {
    const offsets = [-50, 0, 7, 300];
    const x = randomTensor([2, 3, 5, 4], 4, offsets);
    for (const mode of ['unbiased', 'biased'] as const) {
      const bn = new BatchNorm({ momentum: 0, movingVariance: mode });
      bn.call(x, { isTraining: true });
      const { mean, variance, m } = naiveMoments(x);
      expect(m).toBe(30);
      expectClose(bn.movingMean!.data, mean, { atol: 1e-6, rtol: 1e-5 });
      expectClose(bn.movingVariance!.data, variance.map((v) => (mode === 'unbiased' ? (v * m) / (m - 1) : v)), { atol: 1e-6, rtol: 1e-5 });
    }
  });

  it('the Keras question: many steps on one 5x6 batch end at the batch mean and var x 5/4 (or var if biased)', () => {
    const x = randomTensor([5, 6], 5, [1, 2, 3, -4, 0, 10]);
    const { mean, variance } = naiveMoments(x);
    for (const mode of ['unbiased', 'biased'] as const) {
      const bn = new BatchNorm({ momentum: 0.99, movingVariance: mode });
      for (let step = 0; step < 3000; step++) bn.call(x, { isTraining: true }); // 0.99^3000 ~ 1e-13
      expectClose(bn.movingMean!.data, mean, { atol: 1e-5, rtol: 1e-4 });
      expectClose(bn.movingVariance!.data, variance.map((v) => (mode === 'unbiased' ? (v * 5) / 4 : v)), { atol: 1e-5, rtol: 1e-4 });
    }
  });

  it('computes the variance in two passes: exact for a large mean and a small spread', () => {
    // E[x^2] - E[x]^2 in float32 would lose every digit here (1e8 vs 1).
    const x = tensor([1e4 + 1, 1e4 - 1, 1e4 + 1, 1e4 - 1], [4, 1]);
    const bn = new BatchNorm({ momentum: 0, movingVariance: 'biased' });
    bn.call(x, { isTraining: true });
    expect(bn.movingMean!.data[0]).toBe(1e4);
    expect(bn.movingVariance!.data[0]).toBe(1);
  });
});

describe('BatchNorm outputs', () => {
  it('training output has per-channel mean beta and standard deviation gamma', () => {
    const bn = new BatchNorm({ epsilon: 1e-6 });
    const x = randomTensor([6, 2, 3, 3], 6, [4, -9, 1]);
    bn.call(x, { isTraining: false }); // build
    bn.gamma!.data.set([2, 0.5, 3]);
    bn.beta!.data.set([1, -1, 0]);
    const y = bn.call(x, { isTraining: true });
    const { mean, variance } = naiveMoments(y);
    expectClose(mean, [1, -1, 0], { atol: 1e-4, rtol: 1e-4 });
    expectClose(variance.map(Math.sqrt), [2, 0.5, 3], { atol: 1e-4, rtol: 1e-4 });
  });

  it('inference uses only the moving statistics: a sample alone equals the same sample in a batch', () => {
    const bn = new BatchNorm();
    for (let s = 0; s < 5; s++) bn.call(randomTensor([16, 4, 4, 3], 10 + s, [1, 2, 3]), { isTraining: true });
    const batch = randomTensor([7, 4, 4, 3], 20, [1, 2, 3]);
    const all = bn.call(batch, { isTraining: false });
    const per = 4 * 4 * 3;
    for (let n = 0; n < 7; n++) {
      const one = new Tensor(batch.data.slice(n * per, (n + 1) * per), [1, 4, 4, 3]);
      expect(bn.call(one, { isTraining: false }).data).toEqual(all.data.slice(n * per, (n + 1) * per));
    }
  });

  it('inference computes gamma * (x - movingMean) / sqrt(movingVariance + eps) + beta', () => {
    const bn = new BatchNorm({ epsilon: 0.01 });
    bn.call(tensor([[0, 0], [1, 1]]), { isTraining: false });
    bn.movingMean!.data.set([2, -1]);
    bn.movingVariance!.data.set([4, 0.25]);
    bn.gamma!.data.set([3, 1]);
    bn.beta!.data.set([0.5, 0]);
    const y = bn.call(tensor([[4, 0]]), { isTraining: false });
    expectClose(y.data, [(3 * 2) / Math.sqrt(4.01) + 0.5, 1 / Math.sqrt(0.26)], { atol: 1e-6, rtol: 1e-5 });
  });

  it('matches BN built by hand from moments and batchNormalization, values and gradients', () => {
    const x = randomTensor([3, 2, 5, 4], 7, [0, 3, -1, 2]).requireGrad();
    const bn = new BatchNorm({ epsilon: 1e-3 });
    bn.call(x, { isTraining: false });
    bn.gamma!.data.set([1.5, 0.5, -1, 2]);
    bn.beta!.data.set([0.1, 0.2, 0.3, 0.4]);
    const w = randomTensor([3, 2, 5, 4], 8);

    const fused = bn.call(x, { isTraining: true });
    fused.backward({ grad: w });
    const fusedGrads = [x.grad!.data, bn.gamma!.grad!.data, bn.beta!.grad!.data].map((g) => Float32Array.from(g));
    x.zeroGrad();
    bn.gamma!.zeroGrad();
    bn.beta!.zeroGrad();

    const { mean, variance } = moments(x, [0, 1, 2]);
    const hand = batchNormalization(x, mean, variance, bn.beta!, bn.gamma!, 1e-3);
    hand.backward({ grad: w });
    expectClose(fused.data, hand.data, { atol: 1e-5, rtol: 1e-4 });
    expectClose(fusedGrads[0]!, x.grad!.data, { atol: 1e-4, rtol: 1e-3 });
    expectClose(fusedGrads[1]!, bn.gamma!.grad!.data, { atol: 1e-4, rtol: 1e-3 });
    expectClose(fusedGrads[2]!, bn.beta!.grad!.data, { atol: 1e-4, rtol: 1e-3 });
  });
});

describe('BatchNorm gradients (gradcheck: eps 1e-3, atol 1e-3, rtol 1e-2)', () => {
  for (const shape of [[6, 3], [2, 3, 2, 3]]) {
    it(`training mode, input ${JSON.stringify(shape)}: x, gamma and beta`, () => {
      const bn = new BatchNorm();
      const x = randomTensor(shape, 11, [1, -2, 0.5]);
      bn.call(x, { isTraining: false });
      bn.gamma!.data.set([1.5, -0.7, 0.9]);
      bn.beta!.data.set([0.3, 0, -0.2]);
      const report = gradcheck((input) => bn.call(input, { isTraining: true }), [x]);
      expect(report.ok).toBe(true);
      const params = gradcheck((g, b) => {
        bn.gamma = g;
        bn.beta = b;
        return bn.call(x, { isTraining: true });
      }, [bn.gamma!, bn.beta!]);
      expect(params.ok).toBe(true);
    });
  }

  it('inference mode: x, gamma and beta', () => {
    const bn = new BatchNorm();
    const x = randomTensor([4, 3], 12);
    bn.call(x, { isTraining: false });
    bn.movingMean!.data.set([0.5, -1, 2]);
    bn.movingVariance!.data.set([2, 0.5, 1.5]);
    bn.gamma!.data.set([2, 1, -1]);
    expect(gradcheck((input, g, b) => {
      bn.gamma = g;
      bn.beta = b;
      return bn.call(input, { isTraining: false });
    }, [x, bn.gamma!, bn.beta!]).ok).toBe(true);
  });
});

describe('BatchNorm trainable x isTraining (the 2x2)', () => {
  function trained(): BatchNorm {
    const bn = new BatchNorm({ momentum: 0.5 });
    bn.call(randomTensor([8, 2], 13, [3, -3]), { isTraining: true });
    return bn;
  }
  const x = randomTensor([8, 2], 14, [10, 10]);

  it('trainable, training: batch statistics, moving statistics updated, gamma/beta in parameters', () => {
    const bn = trained();
    const before = Float32Array.from(bn.movingMean!.data);
    const y = bn.call(x, { isTraining: true });
    expect(bn.movingMean!.data).not.toEqual(before);
    expectClose(naiveMoments(y).mean, [0, 0], { atol: 1e-4 });
    expect(bn.parameters()).toEqual([bn.gamma, bn.beta]);
  });

  it('trainable, inference: moving statistics, nothing changes', () => {
    const bn = trained();
    const before = Float32Array.from(bn.movingMean!.data);
    const y = bn.call(x, { isTraining: false });
    expect(bn.movingMean!.data).toEqual(before);
    expect(y.data).toEqual(noGrad(() => bn.call(x, { isTraining: false })).data);
  });

  it('frozen, training: uses the moving statistics and does not update them; no parameters', () => {
    const bn = trained();
    bn.trainable = false;
    const before = [Float32Array.from(bn.movingMean!.data), Float32Array.from(bn.movingVariance!.data)];
    const y = bn.call(x, { isTraining: true });
    expect(bn.movingMean!.data).toEqual(before[0]);
    expect(bn.movingVariance!.data).toEqual(before[1]);
    expect(y.data).toEqual(bn.call(x, { isTraining: false }).data);
    expect(bn.parameters()).toEqual([]);
    expect([...bn.stateDict().keys()]).toEqual(['gamma', 'beta', 'movingMean', 'movingVariance']);
  });

  it('frozen, inference: moving statistics, nothing changes', () => {
    const bn = trained();
    bn.trainable = false;
    const before = Float32Array.from(bn.movingVariance!.data);
    bn.call(x, { isTraining: false });
    expect(bn.movingVariance!.data).toEqual(before);
  });
});

describe('BatchNorm bad input', () => {
  it('rejects ranks other than 2 and 4', () => {
    expect(() => new BatchNorm().call(randomTensor([2, 3, 4], 1), { isTraining: true })).toThrow(/bn: expected input \[N, C\] or NHWC .*\[2,3,4\]/);
  });

  it('rejects a channel count that differs from the built layer', () => {
    const bn = new BatchNorm();
    bn.call(randomTensor([4, 3], 1), { isTraining: true });
    expect(() => bn.call(randomTensor([4, 5], 1), { isTraining: true })).toThrow('bn: input [4,5] has 5 channels but the layer was built for 3');
  });

  it('rejects a training call with fewer than 2 values per channel instead of returning NaN', () => {
    const bn = new BatchNorm();
    expect(() => bn.call(randomTensor([1, 3], 1), { isTraining: true })).toThrow(/at least 2 values per channel.*\[1,3\] has 1/);
    expect(Number.isFinite(bn.call(randomTensor([1, 3], 1), { isTraining: false }).data[0])).toBe(true);
  });

  it('requires isTraining: a type error, and a runtime error for JavaScript callers', () => {
    const bn = new BatchNorm();
    // @ts-expect-error isTraining is required
    expect(() => bn.call(randomTensor([4, 3], 1), {})).toThrow(/isTraining: true or false/);
    // @ts-expect-error the options argument is required
    expect(() => bn.call(randomTensor([4, 3], 1))).toThrow(/isTraining/);
  });

  it('rejects bad options', () => {
    expect(() => new BatchNorm({ momentum: 1.5 })).toThrow(/momentum/);
    expect(() => new BatchNorm({ epsilon: 0 })).toThrow(/epsilon/);
    // @ts-expect-error not a mode
    expect(() => new BatchNorm({ movingVariance: 'sample' })).toThrow(/movingVariance/);
  });
});
