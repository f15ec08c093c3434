/**
 * Dense, Conv2d, activations, Flatten and Sequential: weights built on the
 * first call, stable names, seeded initializers, and the math checked
 * against naive loops (float32 tolerance 1e-5 relative).
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor, tensor } from '../../src/index.js';
import { ReLU, Flatten, Sigmoid, Tanh } from '../../src/layers/activations.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Conv2d } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { glorotUniform, truncatedNormal } from '../../src/layers/initializers.js';
import { Sequential } from '../../src/layers/sequential.js';
import { l2 } from '../../src/optim/regularizers.js';
import { expectClose } from '../helpers.js';

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, shape);
}

describe('Dense', () => {
  it('builds [in, units] on the first call and computes x W + b', () => {
    const dense = new Dense(3);
    expect(dense.isBuilt).toBe(false);
    const x = randomTensor([4, 5], 1);
    dense.call(x, { isTraining: false });
    expect(dense.kernel!.shape).toEqual([5, 3]);
    dense.bias!.data.set([1, -1, 0.5]);
    const y = dense.call(x, { isTraining: false });
    const expected = new Float32Array(12);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) {
      let s = dense.bias!.data[j]!;
      for (let k = 0; k < 5; k++) s += x.data[i * 5 + k]! * dense.kernel!.data[k * 3 + j]!;
      expected[i * 3 + j] = s;
    }
    expectClose(y.data, expected, { atol: 1e-5, rtol: 1e-5 });
    expect([...dense.stateDict().keys()]).toEqual(['kernel', 'bias']);
  });

  it('useBias: false has no bias parameter', () => {
    const dense = new Dense(2, { useBias: false });
    dense.call(randomTensor([2, 3], 2), { isTraining: true });
    expect(dense.parameters()).toEqual([dense.kernel]);
  });

  it('rejects bad units and inputs of the wrong rank or width', () => {
    expect(() => new Dense(0)).toThrow('Dense: units must be a positive integer, got 0');
    expect(() => new Dense(2).call(randomTensor([2, 3, 4], 3), { isTraining: false })).toThrow(/dense: expected input \[batch, features\], got \[2,3,4\] \(add a Flatten first\)/);
    const d = new Dense(2);
    d.call(randomTensor([2, 3], 3), { isTraining: false });
    expect(() => d.call(randomTensor([2, 4], 3), { isTraining: false })).toThrow('dense: input [2,4] has 4 features but the layer was built for 3');
  });
});

describe('Conv2d', () => {
  it('builds an HWIO kernel and matches a direct convolution with SAME padding and stride 2', () => {
    const conv = new Conv2d(3, 3, { strides: 2, padding: 'same' });
    const x = randomTensor([2, 5, 6, 2], 4);
    conv.call(x, { isTraining: false });
    expect(conv.kernel!.shape).toEqual([3, 3, 2, 3]);
    conv.bias!.data.set([0.1, 0.2, 0.3]);
    const y = conv.call(x, { isTraining: false });
    expect(y.shape).toEqual([2, 3, 3, 3]); // ceil(5/2), ceil(6/2)
    // SAME, stride 2: rows pad total max((3-1)*2+3-5, 0) = 2 -> top 1; cols (3-1)*2+3-6 = 1 -> left 0.
    const k = conv.kernel!.data;
    const expected: number[] = [];
    for (let n = 0; n < 2; n++) for (let oy = 0; oy < 3; oy++) for (let ox = 0; ox < 3; ox++) for (let f = 0; f < 3; f++) {
      let s = conv.bias!.data[f]!;
      for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) for (let c = 0; c < 2; c++) {
        const iy = oy * 2 + dy - 1;
        const ix = ox * 2 + dx - 0;
        if (iy < 0 || iy >= 5 || ix < 0 || ix >= 6) continue;
        s += x.data[((n * 5 + iy) * 6 + ix) * 2 + c]! * k[((dy * 3 + dx) * 2 + c) * 3 + f]!;
      }
      expected.push(s);
    }
    expectClose(y.data, expected, { atol: 1e-5, rtol: 1e-5 });
  });

  it('rejects bad arguments and non-NHWC input', () => {
    expect(() => new Conv2d(0, 3)).toThrow(/filters must be a positive integer/);
    expect(() => new Conv2d(2, [3, 0])).toThrow(/kernelSize/);
    // @ts-expect-error not a padding mode
    expect(() => new Conv2d(2, 3, { padding: 'full' })).toThrow("Conv2d: padding must be one of 'same', 'valid', got 'full' (a string)");
    expect(() => new Conv2d(2, 3).call(randomTensor([2, 5, 5], 1), { isTraining: false })).toThrow(/expected NHWC input .*\[2,5,5\]/);
  });
});

describe('initializers', () => {
  it('Glorot uniform stays within sqrt(6 / (fanIn + fanOut)) and is seeded by the layer name', () => {
    const a = new Dense(40, { name: 'a' });
    a.call(randomTensor([1, 60], 1), { isTraining: false });
    const limit = Math.sqrt(6 / (60 + 40));
    expect(a.kernel!.data.every((v) => Math.abs(v) <= limit)).toBe(true);
    expect(Math.max(...a.kernel!.data)).toBeGreaterThan(0.9 * limit);
    const again = new Dense(40, { name: 'a' });
    again.call(randomTensor([1, 60], 2), { isTraining: false });
    expect(again.kernel!.data).toEqual(a.kernel!.data);
    const other = new Dense(40, { name: 'b' });
    other.call(randomTensor([1, 60], 1), { isTraining: false });
    expect(other.kernel!.data).not.toEqual(a.kernel!.data);
  });

  it('truncated normal never exceeds 2 stddev, and its seed changes the values', () => {
    const init = truncatedNormal({ stddev: 0.05, seed: 3 });
    const k = init([3, 3, 8, 16], { fanIn: 72, fanOut: 144 }, 7);
    expect(k.data.every((v) => Math.abs(v) <= 0.1)).toBe(true);
    expect(truncatedNormal({ stddev: 0.05, seed: 4 })([3, 3, 8, 16], { fanIn: 72, fanOut: 144 }, 7).data).not.toEqual(k.data);
    expect(glorotUniform({ seed: 3 })([4, 4], { fanIn: 4, fanOut: 4 }, 7).data).toEqual(glorotUniform({ seed: 3 })([4, 4], { fanIn: 4, fanOut: 4 }, 7).data);
  });
});

describe('activations and Flatten', () => {
  it('apply their functions', () => {
    const x = tensor([[-2, 0.5], [3, -0.1]]);
    expect(Array.from(new ReLU().call(x, { isTraining: false }).data)).toEqual([0, 0.5, 3, 0]);
    expectClose(new Sigmoid().call(x, { isTraining: false }).data, [-2, 0.5, 3, -0.1].map((v) => 1 / (1 + Math.exp(-v))), { atol: 1e-5, rtol: 1e-5 });
    expectClose(new Tanh().call(x, { isTraining: false }).data, [-2, 0.5, 3, -0.1].map(Math.tanh), { atol: 1e-5, rtol: 1e-5 });
    expect(new Flatten().call(randomTensor([2, 3, 4, 5], 1), { isTraining: false }).shape).toEqual([2, 60]);
  });
});

describe('Sequential', () => {
  function net(): Sequential {
    return new Sequential([
      new Conv2d(4, 3, { padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
      new Conv2d(6, 3, { strides: 2, padding: 'same', useBias: false, kernelRegularizer: l2(0.1) }), new BatchNorm(), new ReLU(),
      new Flatten(), new Dense(3),
    ]);
  }

  it('names children by kind and position, with stable hierarchical stateDict keys', () => {
    const m = net();
    m.call(randomTensor([2, 6, 6, 1], 1), { isTraining: true });
    expect([...m.stateDict().keys()]).toEqual([
      'conv1/kernel', 'bn1/gamma', 'bn1/beta', 'bn1/movingMean', 'bn1/movingVariance',
      'conv2/kernel', 'bn2/gamma', 'bn2/beta', 'bn2/movingMean', 'bn2/movingVariance',
      'dense1/kernel', 'dense1/bias',
    ]);
    // parameters(): trainable only; moving statistics are state, not parameters.
    expect(m.parameters().length).toBe(8);
    expect(m.parameters()).not.toContain(m.stateDict().get('bn1/movingMean'));
    expect(m.stateDict().get('dense1/kernel')!.shape).toEqual([3 * 3 * 6, 3]);
  });

  it('sums regularization losses (l2(0.1) of conv2/kernel = 0.1 * sum(w^2) / 2)', () => {
    const m = net();
    m.call(randomTensor([2, 6, 6, 1], 1), { isTraining: false });
    const w = m.stateDict().get('conv2/kernel')!.data;
    const expected = (0.1 * w.reduce((s, v) => s + v * v, 0)) / 2;
    expect(m.regularizationLoss()!.item()).toBeCloseTo(expected, 5);
    expect(new Sequential([new Dense(2)]).regularizationLoss()).toBeNull();
  });

  it('freezing the model freezes every layer', () => {
    const m = net();
    m.call(randomTensor([2, 6, 6, 1], 1), { isTraining: false });
    m.trainable = false;
    expect(m.parameters()).toEqual([]);
    expect(m.layers.every((l) => !l.trainable)).toBe(true);
    m.trainable = true;
    expect(m.parameters().length).toBe(8);
  });

  it('rejects duplicate names and non-layers', () => {
    expect(() => new Sequential([new Dense(2, { name: 'x' }), new Dense(2, { name: 'x' })])).toThrow("Sequential: two layers are named 'x'");
    // @ts-expect-error not a layer
    expect(() => new Sequential([{}])).toThrow('Sequential: expected an array of layers');
  });
});
