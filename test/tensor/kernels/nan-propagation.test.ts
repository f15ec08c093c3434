/**
 * NaN propagates through every ReLU path (issue 14, item 3): the elementwise
 * kernel, bias + ReLU, and batch norm + ReLU in training and inference, on
 * both backends. TensorFlow, TF.js and PyTorch return relu(NaN) = NaN; before
 * this fix every path here returned 0 and a 0 gradient, silently hiding a NaN
 * weight in front of a ReLU. The gradient is gy * [x > 0] with NaN where x
 * (or the output) is NaN. relu(-0) stays +0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backward, batchNormInference, batchNormTraining, biasAdd, relu, Tensor } from '../../../src/index.js';
import { backend, setBackend, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { addBias, relu as reluKernel, reluGrad } from '../../../src/tensor/kernels/elementwise.js';
import { batchNormWasmCalls } from '../../../src/tensor/kernels/wasm/batch-norm-wasm.js';
import { rand } from './reference.js';

/** Object.is per element, so NaN equals NaN and +0 differs from -0. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(Array.from(actual)).toEqual(Array.from(expected));
  for (let i = 0; i < expected.length; i++) expect(Object.is(actual[i], expected[i]), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBe(true);
}

describe('ReLU kernels keep NaN', () => {
  it('relu(NaN) is NaN; relu(-0) is +0', () => {
    expectSame(reluKernel(Float32Array.of(NaN, -1, 0, -0, 2, -Infinity, Infinity)), [NaN, 0, 0, 0, 2, 0, Infinity]);
  });

  it('reluGrad is gy * [x > 0], NaN where x is NaN: new array, into another, and in place', () => {
    const x = Float32Array.of(NaN, -1, 0, 2);
    const want = [NaN, 0, 0, 5];
    expectSame(reluGrad(x, Float32Array.of(5, 5, 5, 5)), want);
    expectSame(reluGrad(x, Float32Array.of(5, 5, 5, 5), new Float32Array(4)), want);
    const gy = Float32Array.of(5, 5, 5, 5);
    expect(reluGrad(x, gy, gy)).toBe(gy);
    expectSame(gy, want);
  });

  it('addBias with relu keeps NaN from x and from the bias', () => {
    // x [2, 2] + bias [2]: channel 1's bias is NaN; x[0, 0] is NaN.
    expectSame(addBias(Float32Array.of(NaN, 1, -3, 1), Float32Array.of(1, NaN), true), [NaN, NaN, 0, NaN]);
    expectSame(addBias(Float32Array.of(NaN, 1, -3, 1), Float32Array.of(1, 0), true), [NaN, 1, 0, 1]);
  });
});

const backends = wasmAvailable() ? (['wasm', 'js'] as const) : (['js'] as const);
const initial = backend();
afterEach(() => {
  setBackend(initial);
});

for (const which of backends) {
  describe(`NaN through the ReLU ops on the '${which}' backend`, () => {
    it('relu: forward NaN, gradient NaN where x is NaN', () => {
      setBackend(which);
      const x = new Tensor(Float32Array.of(NaN, -2, 3), [3]).requireGrad();
      const y = relu(x);
      expectSame(y.data, [NaN, 0, 3]);
      backward(y, { grad: Float32Array.of(1, 1, 1) });
      expectSame(x.grad!.data, [NaN, 0, 1]);
    });

    it('biasAdd with relu: a NaN bias gives NaN outputs and NaN gradients for its channel', () => {
      setBackend(which);
      const x = new Tensor(Float32Array.of(1, 2, -3, 4), [2, 2]).requireGrad();
      const bias = new Tensor(Float32Array.of(0, NaN), [2]).requireGrad();
      const y = biasAdd(x, bias, { relu: true });
      expectSame(y.data, [1, NaN, 0, NaN]);
      backward(y, { grad: Float32Array.of(1, 1, 1, 1) });
      expectSame(x.grad!.data, [1, NaN, 0, NaN]);
      expectSame(bias.grad!.data, [1, NaN]);
    });

    // Channel 5 of 8 runs in a group of four; channel 6 of 7 in the leftover loop.
    for (const [channels, bad] of [[8, 5], [7, 6]] as const) it(`batchNormTraining with a fused ReLU: a NaN gamma gives NaN outputs and gradients for its channel (${bad} of ${channels}), the others stay finite`, () => {
      setBackend(which);
      const rows = 40;
      const calls = batchNormWasmCalls();
      const x = new Tensor(rand(rows * channels, 1).map((v) => 2 + v), [rows, channels]).requireGrad();
      const gammaValues = rand(channels, 2).map((v) => 1 + v / 4);
      gammaValues[bad] = NaN;
      const gamma = new Tensor(gammaValues, [channels]).requireGrad();
      const beta = new Tensor(rand(channels, 3), [channels]).requireGrad();
      const { y } = batchNormTraining(x, gamma, beta, 1e-3, { relu: true });
      backward(y, { grad: rand(y.size, 4) });
      expect(batchNormWasmCalls() > calls).toBe(which === 'wasm'); // the path under test ran
      for (let i = 0; i < y.size; i++) {
        const c = i % channels;
        expect(Number.isNaN(y.data[i]!), `y[${i}]`).toBe(c === bad);
        expect(Number.isNaN(x.grad!.data[i]!), `gx[${i}]`).toBe(c === bad);
      }
      expect(y.data.some((v) => v === 0)).toBe(true); // the ReLU did cut elsewhere
      expect(Number.isNaN(beta.grad!.data[bad]!)).toBe(true);
      expect(Number.isNaN(gamma.grad!.data[bad]!)).toBe(true);
      expect(Array.from(beta.grad!.data).filter((_, c) => c !== bad).every(Number.isFinite)).toBe(true);
    });

    it('batchNormInference with a fused ReLU: NaN in x gives NaN there, forward and backward', () => {
      setBackend(which);
      const x = new Tensor(Float32Array.of(NaN, 1, -1, 2), [2, 2]).requireGrad();
      const ones = new Tensor(Float32Array.of(1, 1), [2]);
      const zeros = new Tensor(Float32Array.of(0, 0), [2]);
      const y = batchNormInference(x, zeros, ones, null, null, 0, { relu: true });
      expectSame(y.data, [NaN, 1, 0, 2]);
      backward(y, { grad: Float32Array.of(1, 1, 1, 1) });
      expectSame(x.grad!.data, [NaN, 1, 0, 1]);
    });
  });
}
