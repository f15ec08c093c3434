/**
 * leakyRelu, elu, gelu, softmax, logSoftmax and sparse cross-entropy:
 * hand-worked values, NaN propagation, limits at +-Infinity, and the errors
 * for bad options, axes and labels. (Reference values against PyTorch are in
 * new-ops-torch.test.ts, gradients in ops-gradcheck.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import {
  Tensor, elu, gelu, leakyRelu, logSoftmax, softmax, sparseSoftmaxCrossEntropyWithLogits, sum, tensor,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

const ELEMENTWISE: [string, (x: Tensor) => Tensor][] = [
  ['leakyRelu', (x) => leakyRelu(x)],
  ['elu', (x) => elu(x)],
  ['gelu exact', (x) => gelu(x)],
  ['gelu tanh', (x) => gelu(x, { approximate: 'tanh' })],
];

describe('leakyRelu, elu, gelu', () => {
  it('hand-worked values', () => {
    expectClose(leakyRelu(tensor([-2, 0, 3])).data, [-0.4, 0, 3], { atol: 1e-7 }); // default alpha 0.2
    expectClose(leakyRelu(tensor([-2, 3]), 0.01).data, [-0.02, 3], { atol: 1e-7 });
    expectClose(elu(tensor([-1, 0, 2])).data, [Math.exp(-1) - 1, 0, 2], { atol: 1e-7 });
    expectClose(elu(tensor([-1]), 2).data, [2 * (Math.exp(-1) - 1)], { atol: 1e-7 });
    // Phi(1) = 0.841344746..., so gelu(1) = 0.841344746 and gelu(-1) = -(1 - Phi(1)).
    expectClose(gelu(tensor([-1, 0, 1])).data, [-0.158655254, 0, 0.841344746], { atol: 1e-7 });
    expectClose(gelu(tensor([1]), { approximate: 'tanh' }).data, [0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715))], { atol: 1e-7 });
  });

  it('the gradient at the kink: alpha for leakyRelu (as PyTorch and TensorFlow)', () => {
    const x = tensor([0]).requireGrad();
    leakyRelu(x, 0.3).backward();
    expect(x.grad!.item()).toBeCloseTo(0.3, 7);
  });

  it.each(ELEMENTWISE)('%s propagates NaN and has the right limits at +-Infinity', (_, op) => {
    const y = op(tensor([NaN, Infinity, 1, -Infinity]));
    expect(y.data[0]).toBeNaN();
    expect(y.data[1]).toBe(Infinity);
    expect(Number.isFinite(y.data[2])).toBe(true);
    expect(Number.isFinite(y.data[3]) || y.data[3] === -Infinity).toBe(true);
    expect(Number.isNaN(y.data[3])).toBe(false);
  });

  it('gelu is 0 at -Infinity and keeps its relative accuracy in the tail', () => {
    expect(gelu(tensor([-Infinity])).item()).toBe(-0); // the sign of x * Phi(x) for x < 0
    // gelu(-10) = -10 * 0.5 erfc(10 / sqrt 2) = -7.619853024160593e-23 (math.erfc), where 1 + erf(x / sqrt 2) is 0 in float64.
    expectClose(gelu(tensor([-10])).data, [-7.619853024160593e-23], { rtol: 1e-6 });
  });

  it('refuses bad options, naming the op', () => {
    expect(() => leakyRelu(tensor([1]), NaN)).toThrow('leakyRelu: alpha must be a finite number, got NaN');
    expect(() => elu(tensor([1]), Infinity)).toThrow('elu: alpha must be a finite number, got Infinity');
    expect(() => gelu(tensor([1]), { approximate: 'erf' as 'none' })).toThrow("gelu: approximate must be one of 'none', 'tanh', got 'erf' (a string)");
    expect(() => gelu(tensor([1]), { aproximate: 'tanh' } as never)).toThrow("gelu: unknown option 'aproximate' (did you mean 'approximate'?)");
    expect(() => gelu([1, 2] as never)).toThrow('gelu: expected a Tensor, got object');
  });
});

describe('softmax and logSoftmax', () => {
  it('rows sum to 1, match the naive formula, and do not overflow for logits near 1000', () => {
    const y = softmax(tensor([[1, 2, 3], [1000, 1000, 1000]]));
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    expectClose(y.data, [e[0]! / s, e[1]! / s, e[2]! / s, 1 / 3, 1 / 3, 1 / 3], { atol: 1e-7 });
    expectClose(sum(softmax(tensor([[0.3, -2, 5, 1]]), -1), -1).data, [1], { atol: 1e-6 });
  });

  it('along axis 0 normalizes columns', () => {
    expectClose(softmax(tensor([[0, 1], [0, 1]]), 0).data, [0.5, 0.5, 0.5, 0.5], { atol: 1e-7 });
  });

  it('logSoftmax stays finite where log(softmax) would be -Infinity', () => {
    expectClose(logSoftmax(tensor([0, -200])).data, [0, -200], { atol: 1e-6 });
    expect(Math.log(softmax(tensor([0, -200])).data[1]!)).toBe(-Infinity);
  });

  it('a NaN makes its own slice NaN and leaves the others alone', () => {
    for (const op of [softmax, logSoftmax]) {
      const y = op(tensor([[1, NaN, 2], [1, 2, 3]]));
      expect([...y.data.slice(0, 3)].every(Number.isNaN)).toBe(true);
      expect([...y.data.slice(3)].every(Number.isFinite)).toBe(true);
      const cols = op(tensor([[1, NaN], [2, 3]]), 0);
      expect(Number.isNaN(cols.data[0])).toBe(false);
      expect(cols.data[1]).toBeNaN();
    }
  });

  it('refuses an axis out of range, naming the op and the shape', () => {
    expect(() => softmax(tensor([[1, 2]]), 2)).toThrow('softmax: axis 2 is out of range for input [1,2]');
    expect(() => logSoftmax(tensor([[1, 2]]), -3)).toThrow('logSoftmax: axis -3 is out of range for input [1,2]');
    expect(() => softmax(tensor(5))).toThrow('softmax: axis -1 is out of range for input []');
    expect(() => softmax(tensor([1, 2]), 0.5)).toThrow('softmax: axis 0.5 is out of range for input [2]');
  });
});

describe('sparseSoftmaxCrossEntropyWithLogits', () => {
  const logits = tensor([[2, 0, -1], [0, 3, 0]]);

  it('is the mean of -log softmax at the label (hand-worked)', () => {
    const l0 = Math.log(Math.exp(2) + 1 + Math.exp(-1)) - 2;
    const l1 = Math.log(2 + Math.exp(3)) - 3;
    expectClose([sparseSoftmaxCrossEntropyWithLogits(tensor([0, 1]), logits).item()], [(l0 + l1) / 2], { atol: 1e-6 });
  });

  it('works on leading shapes [2, 2, 3] with labels [2, 2]', () => {
    const x = tensor([[[2, 0, -1], [0, 3, 0]], [[2, 0, -1], [0, 3, 0]]]);
    const flat = sparseSoftmaxCrossEntropyWithLogits(tensor([0, 1]), logits).item();
    expectClose([sparseSoftmaxCrossEntropyWithLogits(tensor([[0, 1], [0, 1]]), x).item()], [flat], { atol: 1e-6 });
  });

  it('a NaN logit makes the loss and its gradient NaN', () => {
    const x = tensor([[NaN, 0], [1, 2]]).requireGrad();
    const loss = sparseSoftmaxCrossEntropyWithLogits(Int32Array.of(1, 0), x);
    expect(loss.item()).toBeNaN();
    loss.backward();
    expect(x.grad!.data[0]).toBeNaN();
  });

  it('refuses labels out of range, not integers, NaN, or of the wrong shape', () => {
    const op = sparseSoftmaxCrossEntropyWithLogits;
    expect(() => op(tensor([0, 3]), logits)).toThrow('sparseSoftmaxCrossEntropyWithLogits: label 3 at row 1 is not a class index in [0, 3) for logits [2,3]');
    expect(() => op(Int32Array.of(-1, 0), logits)).toThrow('label -1 at row 0 is not a class index in [0, 3)');
    expect(() => op(tensor([0.5, 0]), logits)).toThrow('label 0.5 at row 0');
    expect(() => op(tensor([0, NaN]), logits)).toThrow('label NaN at row 1');
    expect(() => op(tensor([[1, 0, 0], [0, 1, 0]]), logits)).toThrow('sparseSoftmaxCrossEntropyWithLogits: labels [2,3] do not match logits [2,3] (expected class indices [2])');
    expect(() => op(Int32Array.of(0), logits)).toThrow('sparseSoftmaxCrossEntropyWithLogits: 1 labels for 2 rows of logits [2,3]');
    expect(() => op(tensor([0]), tensor(1))).toThrow('logits must have a class axis, got []');
    expect(() => op(new Tensor(new Float32Array(0), [0]), new Tensor(new Float32Array(0), [0, 3]))).toThrow('empty logits [0,3]');
  });

  it('gives no gradient to the labels tensor', () => {
    const labels = tensor([0, 1]).requireGrad();
    const x = tensor([[2, 0, -1], [0, 3, 0]]).requireGrad();
    sparseSoftmaxCrossEntropyWithLogits(labels, x).backward();
    expect(labels.grad).toBeNull();
    expect(x.grad).not.toBeNull();
  });
});
