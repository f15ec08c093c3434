/**
 * Conv2d's dilationRate and groups, and the conv2d op's dilations and
 * groups: hand-worked dilated values, a grouped convolution equal to the
 * per-group convolutions concatenated (an independent composition through
 * the plain path; atol 1e-6), the kernel shape [kh,kw,in/groups,filters],
 * the plain path untouched when both are 1 (bit-identical), folding a
 * BatchNorm into a grouped conv, and every refusal naming the op or layer
 * and the shapes.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm, Conv2d, Sequential, Tensor, concat, conv2d, foldBatchNorm, permute, sliceRows, zeros,
} from '../../src/index.js';
import { expectClose, uniform } from '../helpers.js';

const INFER = { isTraining: false };

/** Channels [c0, c1) of an NHWC tensor (via a permute to channels-first and back). */
function channels(x: Tensor, c0: number, c1: number): Tensor {
  const cf = permute(x, [3, 0, 1, 2]);
  return permute(sliceRows(cf, c0, c1), [1, 2, 3, 0]);
}

describe('conv2d op: dilations and groups', () => {
  it('a dilated 1x2 kernel reads every other pixel (hand-worked)', () => {
    const x = new Tensor(Float32Array.of(1, 2, 3, 4, 5), [1, 1, 5, 1]);
    const k = new Tensor(Float32Array.of(1, 10), [1, 2, 1, 1]);
    expect(Array.from(conv2d(x, k, { dilations: 2 }).data)).toEqual([31, 42, 53]);
    // SAME: the dilated span is 3, pad 1 on each side: [0*1+2*10, 1+30, 2+40, 3+50, 4+0]
    expect(Array.from(conv2d(x, k, { dilations: [1, 2], padding: 'same' }).data)).toEqual([20, 31, 42, 53, 4]);
  });

  it('groups G equals G convolutions of the channel slices, concatenated on channels', () => {
    const x = uniform([2, 6, 5, 6], 1);
    const k = uniform([3, 3, 2, 9], 2); // groups 3: 2 input and 3 output channels each
    const y = conv2d(x, k, { groups: 3, padding: 'same', strides: [2, 1], dilations: [1, 2] });
    const parts = [0, 1, 2].map((gi) => conv2d(channels(x, 2 * gi, 2 * gi + 2), channels(k, 3 * gi, 3 * gi + 3), { padding: 'same', strides: [2, 1], dilations: [1, 2] }));
    expectClose(y.data, concat(parts, 3).data, { atol: 1e-6 });
    expect(y.shape).toEqual([2, 3, 5, 9]);
  });

  it('dilations 1 and groups 1 take the plain path: the same bits as without the options', () => {
    const x = uniform([2, 7, 7, 3], 3);
    const k = uniform([3, 3, 3, 4], 4);
    expect(conv2d(x, k, { dilations: [1, 1], groups: 1, padding: 'same' }).data).toEqual(conv2d(x, k, { padding: 'same' }).data);
  });

  it('refuses bad groups and dilations, naming the op and the shapes', () => {
    const x = zeros([1, 5, 5, 6]);
    expect(() => conv2d(x, zeros([3, 3, 2, 4]), { groups: 4 })).toThrow('conv2d: input [1,5,5,6] has 6 channels, not divisible by groups 4');
    expect(() => conv2d(x, zeros([3, 3, 3, 4]), { groups: 3 })).toThrow('conv2d: input [1,5,5,6] has 6 channels but kernel [3,3,3,4] expects 9; its third axis must be 2 (6 channels / groups 3)');
    expect(() => conv2d(x, zeros([3, 3, 2, 5]), { groups: 3 })).toThrow('conv2d: kernel [3,3,2,5] has 5 output channels, not divisible by groups 3');
    expect(() => conv2d(x, zeros([3, 3, 6, 4]), { groups: 0 })).toThrow('conv2d: groups must be a positive integer, got 0');
    expect(() => conv2d(x, zeros([3, 3, 6, 4]), { dilations: 0 })).toThrow('conv2d: dilations must be a positive integer or a pair of them, got 0');
    expect(() => conv2d(x, zeros([3, 3, 6, 4]), { dilations: 3 })).toThrow('conv2d: kernel 3x3 (dilated to 7x7) with VALID padding does not fit input 5x5 (input [1,5,5,6])');
    expect(() => conv2d(x, zeros([3, 3, 6, 4]), { dilation: 2 } as object)).toThrow("conv2d: unknown option 'dilation' (did you mean 'dilations'?)");
  });
});

describe('Conv2d layer: dilationRate and groups', () => {
  it('builds a [kh,kw,in/groups,filters] kernel and equals the op', () => {
    const x = uniform([2, 9, 8, 4], 5);
    const conv = new Conv2d(8, 3, { groups: 4, dilationRate: [2, 1], padding: 'same' });
    const y = conv.call(x, INFER);
    expect(conv.kernel!.shape).toEqual([3, 3, 1, 8]);
    expect([conv.groups, conv.dilationRate]).toEqual([4, [2, 1]]);
    expect(y.data).toEqual(conv2d(x, conv.kernel!, { groups: 4, dilations: [2, 1], padding: 'same' }).data);
    expect(conv.parameters().map((p) => p.shape)).toEqual([[3, 3, 1, 8], [8]]);
  });

  it('folds a following BatchNorm (per output channel, groups or not)', () => {
    const model = new Sequential([new Conv2d(6, 3, { groups: 3, padding: 'same' }), new BatchNorm()]);
    const x = uniform([4, 5, 5, 3], 6);
    for (let i = 0; i < 3; i++) model.call(uniform([4, 5, 5, 3], 10 + i), { isTraining: true });
    const folded = foldBatchNorm(model);
    expectClose(folded.call(x, INFER).data, model.call(x, INFER).data, { atol: 1e-5, rtol: 1e-5 });
  });

  it('refuses bad options and inputs, naming the layer and the shapes', () => {
    expect(() => new Conv2d(6, 3, { groups: 4 })).toThrow('Conv2d: filters 6 is not divisible by groups 4');
    expect(() => new Conv2d(6, 3, { groups: 0 })).toThrow('Conv2d: groups must be an integer >= 1, got 0');
    expect(() => new Conv2d(6, 3, { dilationRate: [1, 0] })).toThrow('Conv2d: dilationRate must be a positive integer or a pair of them, got [1,0]');
    expect(() => new Conv2d(6, 3, { dilation_rate: 2 } as object)).toThrow("Conv2d: unknown option 'dilation_rate' (did you mean 'dilationRate'?)");
    expect(() => new Conv2d(6, 3, { groups: 3, name: 'dw' }).call(zeros([1, 5, 5, 4]), INFER)).toThrow('dw: input [1,5,5,4] has 4 channels, not divisible by groups 3');
  });
});
