/**
 * biasAdd against add(x, bias): the same floats forward and backward (the
 * no-BN experiment's numbers depend on it), a gradcheck (eps 1e-3, atol 1e-3,
 * rtol 1e-2), and the kernels against plain loops.
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor, add, gradcheck, mul, relu, sum, tensor } from '../../../src/index.js';
import { biasAdd } from '../../../src/autograd/ops/bias-add.js';
import { addBias } from '../../../src/tensor/kernels/elementwise.js';
import { sumRows } from '../../../src/tensor/kernels/reduce.js';

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 10 ** ((i % 7) - 3); // magnitudes 1e-3..1e3: rounding shows
  return new Tensor(data, shape);
}

describe('biasAdd', () => {
  for (const shape of [[1, 5], [64, 100], [3, 4, 4, 6], [2, 41, 41, 3], [7]]) {
    it(`${JSON.stringify(shape)}: the floats of add(x, bias), values and both gradients`, () => {
      const c = shape[shape.length - 1]!;
      const x = randomTensor(shape, 1).requireGrad();
      const bias = randomTensor([c], 2).requireGrad();
      const w = randomTensor(shape, 3);
      const y = biasAdd(x, bias);
      expect(y.data).toEqual(add(x, bias).data);
      sum(mul(y, w)).backward();
      const [gx, gb] = [x.grad!.data, bias.grad!.data];
      x.grad = null;
      bias.grad = null;
      sum(mul(add(x, bias), w)).backward();
      expect(gx).toEqual(x.grad!.data);
      expect(gb).toEqual(bias.grad!.data);
    });
  }

  it('with relu: the floats of relu(add(x, bias)), values and both gradients', () => {
    const x = randomTensor([4, 3, 5], 7).requireGrad();
    const bias = randomTensor([5], 8).requireGrad();
    const w = randomTensor([4, 3, 5], 9);
    const y = biasAdd(x, bias, { relu: true });
    expect(y.data).toEqual(relu(add(x, bias)).data);
    expect(y.data.some((v) => v === 0) && y.data.some((v) => v > 0)).toBe(true);
    sum(mul(y, w)).backward();
    const [gx, gb] = [x.grad!.data, bias.grad!.data];
    x.grad = null;
    bias.grad = null;
    sum(mul(relu(add(x, bias)), w)).backward();
    expect(gx).toEqual(x.grad!.data);
    expect(gb).toEqual(bias.grad!.data);
  });

  it('gradcheck with relu (no value within 0.05 of the kink)', () => {
    const x = new Tensor(Float32Array.of(0.5, -0.7, 1.2, -0.3, 0.9, -1.1), [3, 2]);
    const b = new Tensor(Float32Array.of(0.1, -0.1), [2]);
    expect(gradcheck((a, c) => biasAdd(a, c, { relu: true }), [x, b]).ok).toBe(true);
  });

  it('gradcheck in x and bias', () => {
    expect(gradcheck((x, b) => biasAdd(x, b), [randomTensor([3, 2, 4], 4), randomTensor([4], 5)]).ok).toBe(true);
  });

  it('rejects a bias that is not [channels]', () => {
    expect(() => biasAdd(tensor([[1, 2]]), tensor([1, 2, 3]))).toThrow('biasAdd: bias [3] must be [2] for input [1,2]');
    expect(() => biasAdd(tensor([[1, 2]]), tensor([[1, 2]]))).toThrow('biasAdd: bias [1,2] must be [2]');
  });
});

describe('bias kernels', () => {
  it('addBias and sumRows match plain loops over more than one block', () => {
    const [rows, c] = [5000, 3];
    const x = randomTensor([rows, c], 6).data;
    const b = Float32Array.of(1, -2, 0.5);
    expect(addBias(x, b)).toEqual(x.map((v, i) => v + b[i % c]!));
    const want = new Float64Array(c);
    for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) want[j]! += x[r * c + j]!;
    expect(sumRows(x, c)).toEqual(Float32Array.from(want));
  });

  it('sumRows adds the rows in order with one running sum (per-block partial sums would differ)', () => {
    const x = new Float32Array(5000).fill(1);
    x[0] = 2 ** 60; // the ones after it are lost in float64...
    x[4096] = -(2 ** 60); // ...until this cancels it, in the second block; the 903 ones after it count
    expect(sumRows(x, 1)[0]).toBe(903);
  });
});
