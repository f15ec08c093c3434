/**
 * Batch norm with the ReLU fused in (batchNormTraining / batchNormInference
 * with { relu: true }, and Sequential's BatchNorm/Dense/Conv2d -> ReLU fusion). The fused
 * op must give exactly the floats of relu(bn(x)), gradients included (the
 * MNIST results depend on it), and pass a finite-difference gradcheck
 * (eps 1e-3, atol 1e-3, rtol 1e-2) with no normalized value near the kink.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm, Conv2d, Dense, Flatten, ReLU, Random, Sequential, Tensor, gradcheck, noGrad, relu, sum, mul,
} from '../../src/index.js';
import { batchNormInference, batchNormTraining } from '../../src/autograd/ops/batch-norm.js';

function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale + (i % 3);
  return new Tensor(data, shape);
}

/** sum(w * y): a loss whose gradient dL/dy is the fixed random w. */
function weightedSum(y: Tensor, seed: number): Tensor {
  return sum(mul(y, randomTensor(y.shape as number[], seed)));
}

/** The gradients of `loss(inputs)` with respect to each input, as fresh copies. */
function gradsOf(inputs: Tensor[], loss: () => Tensor): Float32Array[] {
  for (const t of inputs) t.grad = null;
  loss().backward();
  return inputs.map((t) => Float32Array.from(t.grad!.data));
}

const SHAPES = [[7, 3], [2, 3, 4, 3]];

describe('batchNormTraining with relu: the floats of relu(batchNormTraining)', () => {
  for (const shape of SHAPES) {
    it(`${JSON.stringify(shape)}: outputs, x/gamma/beta gradients and statistics are identical`, () => {
      const x = randomTensor(shape, 1).requireGrad();
      const gamma = new Tensor(Float32Array.of(1.5, -0.7, 0.9), [3]).requireGrad();
      const beta = new Tensor(Float32Array.of(0.3, 0, -0.2), [3]).requireGrad();
      const fused = batchNormTraining(x, gamma, beta, 1e-3, { relu: true });
      const plain = batchNormTraining(x, gamma, beta, 1e-3);
      const composed = relu(plain.y);
      expect(fused.y.data).toEqual(composed.data);
      expect(fused.y.gradFn!.op).toBe('batchNormRelu');
      expect(fused.mean).toEqual(plain.mean);
      expect(fused.variance).toEqual(plain.variance);
      // The mask is exercised: some outputs are cut to 0, some pass.
      expect(fused.y.data.some((v) => v === 0) && fused.y.data.some((v) => v > 0)).toBe(true);
      const g1 = gradsOf([x, gamma, beta], () => weightedSum(batchNormTraining(x, gamma, beta, 1e-3, { relu: true }).y, 9));
      const g2 = gradsOf([x, gamma, beta], () => weightedSum(relu(batchNormTraining(x, gamma, beta, 1e-3).y), 9));
      g1.forEach((g, i) => expect(g, `input ${i}`).toEqual(g2[i]));
    });
  }

  it('only gamma/beta need a gradient (x a constant): identical to the composition', () => {
    const x = randomTensor([6, 3], 2);
    const gamma = new Tensor(Float32Array.of(1, 2, 3), [3]).requireGrad();
    const g1 = gradsOf([gamma], () => weightedSum(batchNormTraining(x, gamma, null, 1e-3, { relu: true }).y, 3));
    const g2 = gradsOf([gamma], () => weightedSum(relu(batchNormTraining(x, gamma, null, 1e-3).y), 3));
    expect(g1[0]).toEqual(g2[0]);
  });

  it('gradcheck in x, gamma and beta (no normalized value within 0.05 of the kink)', () => {
    const x = randomTensor([9, 3], 2);
    const gamma = new Tensor(Float32Array.of(1.2, -0.8, 0.6), [3]);
    const beta = new Tensor(Float32Array.of(0.1, -0.3, 0.2), [3]);
    const pre = noGrad(() => batchNormTraining(x, gamma, beta, 1e-3).y.data);
    expect(pre.every((v) => Math.abs(v) > 0.05)).toBe(true);
    expect(pre.some((v) => v < 0)).toBe(true);
    const report = gradcheck((a, g, b) => batchNormTraining(a, g, b, 1e-3, { relu: true }).y, [x, gamma, beta]);
    expect(report.ok).toBe(true);
  });
});

describe('batchNormInference with relu', () => {
  const mean = new Tensor(Float32Array.of(0.5, 1, 2), [3]);
  const variance = new Tensor(Float32Array.of(2, 0.5, 1.5), [3]);

  it('identical to relu(batchNormInference), values and gradients, under noGrad too', () => {
    const x = randomTensor([5, 2, 2, 3], 5).requireGrad();
    const gamma = new Tensor(Float32Array.of(2, 1, -1), [3]).requireGrad();
    const beta = new Tensor(Float32Array.of(0.1, 0, -0.1), [3]).requireGrad();
    const fused = batchNormInference(x, mean, variance, gamma, beta, 1e-3, { relu: true });
    expect(fused.data).toEqual(relu(batchNormInference(x, mean, variance, gamma, beta, 1e-3)).data);
    expect(fused.data.some((v) => v === 0) && fused.data.some((v) => v > 0)).toBe(true);
    const quiet = noGrad(() => batchNormInference(x, mean, variance, gamma, beta, 1e-3, { relu: true }));
    expect(quiet.data).toEqual(fused.data);
    expect(quiet.gradFn).toBeNull();
    const g1 = gradsOf([x, gamma, beta], () => weightedSum(batchNormInference(x, mean, variance, gamma, beta, 1e-3, { relu: true }), 6));
    const g2 = gradsOf([x, gamma, beta], () => weightedSum(relu(batchNormInference(x, mean, variance, gamma, beta, 1e-3)), 6));
    g1.forEach((g, i) => expect(g, `input ${i}`).toEqual(g2[i]));
  });

  it('gradcheck in x, gamma and beta', () => {
    const x = randomTensor([8, 3], 6);
    const gamma = new Tensor(Float32Array.of(2, 1, -1), [3]);
    const beta = new Tensor(Float32Array.of(0.1, 0, -0.1), [3]);
    const pre = noGrad(() => batchNormInference(x, mean, variance, gamma, beta, 1e-3).data);
    expect(pre.every((v) => Math.abs(v) > 0.05) && pre.some((v) => v < 0)).toBe(true);
    expect(gradcheck((a, g, b) => batchNormInference(a, mean, variance, g, b, 1e-3, { relu: true }), [x, gamma, beta]).ok).toBe(true);
  });
});

describe('Sequential fuses a ReLU into the layer before it', () => {
  const layers = (): (Conv2d | BatchNorm | ReLU | Flatten | Dense)[] => [
    new Conv2d(4, 3, { padding: 'same', useBias: false, kernelInitializer: undefined }), new BatchNorm(), new ReLU(),
    new Flatten(), new Dense(5, { useBias: false }), new BatchNorm(), new ReLU(), new Dense(2),
  ];
  /** The same layers, called one by one: no fusion. */
  const unfused = (ls: ReturnType<typeof layers>, x: Tensor, isTraining: boolean): Tensor =>
    ls.reduce((y, l) => l.call(y, { isTraining }), x);

  it('the same outputs, gradients and moving statistics as calling the layers one by one', () => {
    const x = randomTensor([4, 5, 5, 2], 8);
    const model = new Sequential(layers());
    const copy = layers();
    new Sequential(copy); // the same names, so the same seeded initial weights
    for (const isTraining of [true, true, false]) {
      const a = model.call(x, { isTraining });
      const b = unfused(copy, x, isTraining);
      expect(a.data).toEqual(b.data);
      if (!isTraining) continue;
      const pa = model.parameters();
      const pb = copy.flatMap((l) => l.parameters());
      const ga = gradsOf(pa, () => weightedSum(model.call(x, { isTraining }), 1));
      const gb = gradsOf(pb, () => weightedSum(unfused(copy, x, isTraining), 1));
      expect(ga.length).toBe(gb.length);
      ga.forEach((g, i) => expect(g, `parameter ${i}`).toEqual(gb[i]));
      expect([...model.buffers().values()].map((t) => t.data)).toEqual(copy.flatMap((l) => [...l.buffers().values()].map((t) => t.data)));
    }
    expect(model.call(x, { isTraining: true }).gradFn!.inputs[0]!.gradFn!.inputs[0]!.gradFn!.op).toBe('batchNormRelu');
  });

  it('Conv2d/Dense (with or without bias) -> ReLU: the same outputs and gradients as the layers one by one', () => {
    const make = (): (Conv2d | ReLU | Flatten | Dense)[] => [
      new Conv2d(3, 3, { padding: 'same' }), new ReLU(), new Conv2d(4, 2, { useBias: false }), new ReLU(),
      new Flatten(), new Dense(6), new ReLU(), new Dense(2),
    ];
    const x = randomTensor([3, 5, 5, 2], 10);
    const model = new Sequential(make());
    const copy = make();
    new Sequential(copy);
    const a = model.call(x, { isTraining: true });
    expect(a.data).toEqual(unfused(copy, x, true).data);
    expect(a.gradFn!.inputs[0]!.gradFn!.inputs[0]!.gradFn!.op).toBe('biasAddRelu'); // dense2 <- matmul <- dense1 + relu
    const ga = gradsOf(model.parameters(), () => weightedSum(model.call(x, { isTraining: true }), 2));
    const gb = gradsOf(copy.flatMap((l) => l.parameters()), () => weightedSum(unfused(copy, x, true), 2));
    expect(ga.length).toBe(7); // conv1 kernel+bias, conv2 kernel, dense1 and dense2 kernel+bias
    ga.forEach((g, i) => expect(g, `parameter ${i}`).toEqual(gb[i]));
  });

  it('a ReLU subclass is called, not fused; a stateless layer counts as built', () => {
    class LoudRelu extends ReLU {
      calls = 0;
      protected override apply(x: Tensor): Tensor {
        this.calls++;
        return relu(x);
      }
    }
    const loud = new LoudRelu();
    const model = new Sequential([new Dense(3), new BatchNorm(), loud]);
    model.call(randomTensor([4, 2], 9), { isTraining: true });
    expect(loud.calls).toBe(1);
    expect(new ReLU().isBuilt).toBe(true);
  });
});
