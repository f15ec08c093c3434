/**
 * conv2d op: values against the direct 7-loop convolution (atol 1e-5,
 * rtol 1e-4 on inputs in [-1, 1)), gradients of x and kernel by finite
 * differences (gradcheck's defaults: eps 1e-3, |analytic - numeric| <=
 * 1e-3 + 1e-2 |numeric|), options, and the error messages.
 */
import { describe, expect, it } from 'vitest';
import { conv2d, type Conv2dOptions } from '../../../src/autograd/ops/conv2d.js';
import { gradcheck } from '../../../src/autograd/gradcheck.js';
import { noGrad } from '../../../src/autograd/graph.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { expectClose } from '../../helpers.js';
import { naiveConv, rand } from '../../tensor/kernels/reference.js';

const ATOL = 1e-5;
const RTOL = 1e-4;
const GRADCHECK = { atol: 1e-3, rtol: 1e-2 };

const t = (shape: number[], seed: number): Tensor => new Tensor(rand(shape.reduce((p, d) => p * d, 1), seed), shape);

describe('conv2d', () => {
  it('matches the direct loop, strides as a number or a pair', () => {
    const x = t([2, 7, 6, 3], 1);
    const k = t([3, 2, 3, 4], 2);
    const cases: [Conv2dOptions, [number, number]][] = [[{ strides: 2, padding: 'same' }, [2, 2]], [{ strides: [2, 1], padding: 'valid' }, [2, 1]]];
    for (const [opts, [sh, sw]] of cases) {
      const y = conv2d(x, k, opts);
      const ref = naiveConv(x.data, k.data, { n: 2, h: 7, w: 6, cin: 3, kh: 3, kw: 2, cout: 4, sh, sw, padding: opts.padding! });
      expect(y.shape).toEqual(ref.shape);
      expectClose(y.data, ref.y, { atol: ATOL, rtol: RTOL });
    }
  });

  it("defaults to strides 1 and 'valid' padding", () => {
    const x = t([1, 5, 5, 2], 3);
    const k = t([3, 3, 2, 1], 4);
    const y = conv2d(x, k);
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect([...y.data]).toEqual([...conv2d(x, k, { strides: 1, padding: 'valid' }).data]);
  });

  it('an image alone gives the same output as inside a batch', () => {
    const x = t([3, 6, 5, 2], 5);
    const k = t([3, 3, 2, 4], 6);
    const all = conv2d(x, k, { strides: 2, padding: 'same' });
    const perY = all.size / 3;
    const perX = x.size / 3;
    for (let b = 0; b < 3; b++) {
      const image = new Tensor(x.data.slice(b * perX, (b + 1) * perX), [1, 6, 5, 2]);
      expect([...conv2d(image, k, { strides: 2, padding: 'same' }).data]).toEqual([...all.data.subarray(b * perY, (b + 1) * perY)]);
    }
  });

  const GRAD_CASES: [number[], number[], Conv2dOptions][] = [
    [[2, 5, 5, 2], [3, 3, 2, 3], { strides: 1, padding: 'same' }],
    [[2, 5, 5, 2], [3, 3, 2, 3], { strides: 1, padding: 'valid' }],
    [[1, 6, 5, 2], [3, 2, 2, 2], { strides: 2, padding: 'same' }],
    [[2, 7, 6, 1], [3, 3, 1, 2], { strides: 2, padding: 'valid' }],
    [[1, 4, 4, 3], [2, 2, 3, 2], { strides: [1, 2], padding: 'same' }],
    [[2, 3, 4, 3], [1, 1, 3, 2], { strides: 1, padding: 'same' }],
    [[1, 3, 3, 2], [3, 3, 2, 2], { strides: 1, padding: 'valid' }], // 1x1 output
  ];
  for (const [xs, ks, opts] of GRAD_CASES) {
    it(`gradcheck x [${xs}] and kernel [${ks}], ${JSON.stringify(opts)}`, () => {
      const report = gradcheck((x, k) => conv2d(x!, k!, opts), [t(xs, 7), t(ks, 8)], GRADCHECK);
      expect(report.ok).toBe(true);
      expect(report.inputs).toHaveLength(2);
    });
  }

  it('computes only the gradients whose input requires one', () => {
    for (const which of ['x', 'kernel'] as const) {
      const x = t([1, 4, 4, 2], 9);
      const k = t([3, 3, 2, 2], 10);
      (which === 'x' ? x : k).requireGrad();
      const y = conv2d(x, k, { padding: 'same' });
      const [gx, gk] = y.gradFn!.backward(new Float32Array(y.size).fill(1));
      expect(gx === null).toBe(which === 'kernel');
      expect(gk === null).toBe(which === 'x');
    }
  });

  it('records nothing under noGrad', () => {
    const y = noGrad(() => conv2d(t([1, 3, 3, 1], 1).requireGrad(), t([2, 2, 1, 1], 2)));
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
  });

  it('names the op and the shapes on bad input', () => {
    const x = t([2, 5, 5, 3], 1);
    const k = t([3, 3, 3, 4], 2);
    expect(() => conv2d(t([64, 28, 28, 3], 1), t([3, 3, 1, 4], 2))).toThrow('conv2d: input [64,28,28,3] has 3 channels but kernel [3,3,1,4] expects 1');
    expect(() => conv2d(t([5, 5, 3], 1), k)).toThrow('conv2d: input [5,5,3] must have rank 4 [batch, height, width, channels], got rank 3');
    expect(() => conv2d(x, t([3, 3, 3], 2))).toThrow('conv2d: kernel [3,3,3] must have rank 4 [height, width, inChannels, outChannels], got rank 3');
    expect(() => conv2d(x, k, { strides: 0 })).toThrow('conv2d: strides must be a positive integer or a pair of them, got 0');
    expect(() => conv2d(x, k, { strides: 1.5 })).toThrow('conv2d: strides must be a positive integer or a pair of them, got 1.5');
    expect(() => conv2d(x, k, { strides: [2, -1] })).toThrow('conv2d: strides must be a positive integer or a pair of them, got [2,-1]');
    expect(() => conv2d(x, k, { strides: [2] as unknown as [number, number] })).toThrow('conv2d: strides must be a positive integer or a pair of them, got [2]');
    expect(() => conv2d(x, k, { strides: Number.NaN })).toThrow('conv2d: strides must be a positive integer or a pair of them, got NaN');
    expect(() => conv2d(x, k, { padding: 'SAME' as 'same' })).toThrow("conv2d: unknown padding 'SAME'; expected 'same' or 'valid'");
    expect(() => conv2d(x, t([6, 3, 3, 4], 2))).toThrow(
      "conv2d: with 'valid' padding the input height must be at least the kernel height, but input [2,5,5,3] has 5 and kernel [6,3,3,4] has 6",
    );
    expect(() => conv2d(x, 3 as unknown as Tensor)).toThrow('conv2d: expected an input Tensor and a kernel Tensor, got Tensor and number');
  });
});
