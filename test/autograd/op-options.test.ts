/**
 * Every op with an options object checks it (issue 14, item 6): unknown keys
 * name the op and suggest the closest valid key; wrong types and ranges name
 * the op and the option. Each of these was silently accepted before
 * (`conv2d(x, k, { dilations: 2 })` ran undilated; it is an option now).
 */
import { describe, expect, it } from 'vitest';
import { biasAdd, batchNormInference, batchNormTraining, conv2d, max, mean, min, moments, ones, sum, zeros } from '../../src/index.js';

const x4 = zeros([1, 5, 5, 2]);
const k4 = zeros([3, 3, 2, 4]);
const x2 = ones([4, 3]);
const c3 = ones([3]);
const loose = (opts: unknown): never => opts as never;

describe('op options', () => {
  it.each([
    ['conv2d dilation', () => conv2d(x4, k4, loose({ dilation: 2 })), "conv2d: unknown option 'dilation' (did you mean 'dilations'?); valid options: strides, padding, dilations, groups"],
    ['conv2d stride', () => conv2d(x4, k4, loose({ stride: 2 })), "conv2d: unknown option 'stride' (did you mean 'strides'?); valid options: strides, padding, dilations, groups"],
    ['conv2d padding', () => conv2d(x4, k4, loose({ padding: 'full' })), "conv2d: unknown padding 'full'; expected 'same' or 'valid'"],
    ['conv2d strides', () => conv2d(x4, k4, { strides: 0 }), 'conv2d: strides must be a positive integer or a pair of them, got 0'],
    ['conv2d options null', () => conv2d(x4, k4, loose(null)), 'conv2d: options must be an object, got null'],
    ['biasAdd', () => biasAdd(x2, c3, loose({ Relu: true })), "biasAdd: unknown option 'Relu' (did you mean 'relu'?); valid options: relu"],
    ['biasAdd relu a string', () => biasAdd(x2, c3, loose({ relu: 'yes' })), "biasAdd: relu must be true or false, got 'yes' (a string)"],
    ['batchNormTraining', () => batchNormTraining(x2, c3, c3, 1e-3, loose({ activation: 'relu' })), "batchNormTraining: unknown option 'activation'; valid options: relu"],
    ['batchNormInference', () => batchNormInference(x2, c3, c3, c3, c3, 1e-3, loose({ relu: 1 })), 'batchNormInference: relu must be true or false, got 1'],
    ['sum', () => sum(x2, 0, loose({ keepdims: true })), "sum: unknown option 'keepdims' (did you mean 'keepDims'?); valid options: keepDims"],
    ['mean', () => mean(x2, 0, loose({ keepDims: 1 })), 'mean: keepDims must be true or false, got 1'],
    ['max', () => max(x2, 0, loose({ keep_dims: true })), "max: unknown option 'keep_dims' (did you mean 'keepDims'?)"],
    ['min', () => min(x2, 0, loose({ axis: 1 })), "min: unknown option 'axis'; valid options: keepDims"],
    ['moments', () => moments(x2, [0], loose({ keepdim: true })), "moments: unknown option 'keepdim' (did you mean 'keepDims'?)"],
  ])('%s', (_, run, message) => {
    expect(run).toThrow(message);
  });

  it('valid options still work', () => {
    expect(conv2d(x4, k4, { strides: [2, 1], padding: 'same' }).shape).toEqual([1, 3, 5, 4]);
    expect(sum(x2, 0, { keepDims: true }).shape).toEqual([1, 3]);
    expect(biasAdd(x2, c3, { relu: true }).toArray()).toEqual([[2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]]);
    expect(moments(x2, [0], { keepDims: false }).variance.toArray()).toEqual([0, 0, 0]);
  });
});
