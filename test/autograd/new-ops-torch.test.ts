/**
 * leakyRelu, elu, gelu (both forms), softmax, logSoftmax and
 * sparseSoftmaxCrossEntropyWithLogits against PyTorch 1.13, values and
 * gradients of sum(w * y), from test/fixtures/torch/new-ops.py (float64 on
 * float32 inputs). Tolerance: atol 1e-6, rtol 1e-6 (float32 storage of the
 * outputs; torch's float64 exact GELU itself loses relative accuracy below
 * x = -6, where 1 + erf cancels, which the absolute tolerance covers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Tensor, elu, gelu, leakyRelu, logSoftmax, softmax, softmaxCrossEntropyWithLogits, sparseSoftmaxCrossEntropyWithLogits,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

interface Case {
  name: string;
  shape: number[];
  x: number[];
  w: number[];
  y: number[];
  gx: number[];
  alpha?: number;
  approximate?: 'none' | 'tanh';
  axis?: number;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/new-ops.json', import.meta.url), 'utf8')) as {
  activations: Case[];
  softmax: Case[];
  sparseCrossEntropy: { shape: number[]; logits: number[]; labels: number[]; loss: number; gx: number[] };
};

const TOL = { atol: 1e-6, rtol: 1e-6 };

function run(c: Case, op: (x: Tensor) => Tensor): void {
  const x = new Tensor(Float32Array.from(c.x), c.shape).requireGrad();
  const y = op(x);
  expect(y.shape).toEqual(c.shape);
  expectClose(y.data, c.y, TOL);
  y.backward({ grad: Float32Array.from(c.w) });
  expectClose(x.grad!.data, c.gx, TOL);
}

function activation(c: Case): (x: Tensor) => Tensor {
  if (c.name.startsWith('leakyRelu')) return (x) => leakyRelu(x, c.alpha);
  if (c.name.startsWith('elu')) return (x) => elu(x, c.alpha);
  return (x) => gelu(x, { approximate: c.approximate });
}

describe('activations against PyTorch', () => {
  it('the fixture covers each op and form', () => {
    expect(fixture.activations.map((c) => c.name)).toEqual([
      'leakyRelu alpha=0.2', 'leakyRelu alpha=0.3', 'leakyRelu alpha=0.01', 'elu alpha=1', 'elu alpha=0.5', 'gelu none', 'gelu tanh',
    ]);
  });

  it.each(fixture.activations.map((c) => [c.name, c] as const))('%s: values and gradients', (_, c) => {
    run(c, activation(c));
  });
});

describe('softmax and logSoftmax against PyTorch (a [3,4,5] tensor with a row of logits near 1000)', () => {
  it.each(fixture.softmax.map((c) => [c.name, c] as const))('%s: values and gradients', (_, c) => {
    run(c, c.name.startsWith('softmax') ? (x) => softmax(x, c.axis) : (x) => logSoftmax(x, c.axis));
  });
});

describe('sparseSoftmaxCrossEntropyWithLogits against PyTorch cross_entropy', () => {
  const f = fixture.sparseCrossEntropy;

  it.each([
    ['a Tensor [6]', () => new Tensor(Float32Array.from(f.labels), [6])],
    ['a Tensor [6,1]', () => new Tensor(Float32Array.from(f.labels), [6, 1])],
    ['an Int32Array', () => Int32Array.from(f.labels)],
  ] as const)('labels as %s: loss and gradient', (_, makeLabels) => {
    const logits = new Tensor(Float32Array.from(f.logits), f.shape).requireGrad();
    const loss = sparseSoftmaxCrossEntropyWithLogits(makeLabels(), logits);
    expect(loss.shape).toEqual([]);
    expectClose([loss.item()], [f.loss], TOL);
    loss.backward();
    expectClose(logits.grad!.data, f.gx, TOL);
  });

  it('equals softmaxCrossEntropyWithLogits with the one-hot labels', () => {
    const logits = new Tensor(Float32Array.from(f.logits), f.shape);
    const oneHot = new Float32Array(f.logits.length);
    f.labels.forEach((c, r) => (oneHot[r * 5 + c] = 1));
    const dense = softmaxCrossEntropyWithLogits(new Tensor(oneHot, f.shape), logits).item();
    expectClose([sparseSoftmaxCrossEntropyWithLogits(Int32Array.from(f.labels), logits).item()], [dense], { atol: 1e-6, rtol: 1e-6 });
  });
});
