/**
 * Every layer checks its options object (issue 14, item 6): an unknown key is
 * an error naming the layer, the key, a did-you-mean suggestion and the valid
 * keys; a wrong type or range is an error naming the layer and the option.
 * Each of these was silently accepted before.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm, Conv2d, Dense, Flatten, ReLU, Sequential, Sigmoid, Tanh, glorotUniform, truncatedNormalInitializer,
} from '../../src/index.js';

/** Calls `make` with options the type checker would refuse (a JavaScript caller's mistake). */
const loose = <T>(make: (opts: never) => T, opts: unknown): (() => T) => () => make(opts as never);

describe('layer options: unknown keys', () => {
  it.each([
    ['Conv2d', loose((o) => new Conv2d(4, 3, o), { stride: 2 }), "Conv2d: unknown option 'stride' (did you mean 'strides'?); valid options: name, strides, padding, dilationRate, groups, useBias, kernelInitializer, kernelRegularizer, activation"],
    ['Dense', loose((o) => new Dense(4, o), { use_bias: false }), "Dense: unknown option 'use_bias' (did you mean 'useBias'?); valid options: name, useBias, kernelInitializer, kernelRegularizer, activation"],
    ['BatchNorm', loose((o) => new BatchNorm(o), { eps: 1e-5 }), "BatchNorm: unknown option 'eps' (did you mean 'epsilon'?); valid options: name, momentum, epsilon, center, scale, movingVariance, activation"],
    ['ReLU', loose((o) => new ReLU(o), { nmae: 'r' }), "ReLU: unknown option 'nmae' (did you mean 'name'?); valid options: name"],
    ['Sigmoid', loose((o) => new Sigmoid(o), { units: 3 }), "Sigmoid: unknown option 'units'; valid options: name"],
    ['Tanh', loose((o) => new Tanh(o), { alpha: 1 }), "Tanh: unknown option 'alpha'"],
    ['Flatten', loose((o) => new Flatten(o), { dataFormat: 'channels_first' }), "Flatten: unknown option 'dataFormat'; valid options: name"],
    ['Sequential', loose((o) => new Sequential([new ReLU()], o), { names: 'm' }), "Sequential: unknown option 'names' (did you mean 'name'?); valid options: name"],
    ['glorotUniform', loose((o) => glorotUniform(o), { sead: 1 }), "glorotUniform: unknown option 'sead' (did you mean 'seed'?)"],
    ['truncatedNormal', loose((o) => truncatedNormalInitializer(o), { std: 0.1 }), "truncatedNormal: unknown option 'std'"],
  ])('%s', (_, make, message) => {
    expect(make).toThrow(message);
  });

  it('accepts every documented option', () => {
    expect(new Conv2d(4, 3, { name: 'c', strides: [2, 1], padding: 'same', useBias: false, kernelInitializer: glorotUniform({ seed: 1 }), activation: 'relu' }).name).toBe('c');
    expect(new BatchNorm({ momentum: 0, epsilon: 1e-5, center: false, scale: false, movingVariance: 'biased', activation: 'linear' }).epsilon).toBe(1e-5);
    expect(new Dense(2, {}).units).toBe(2);
  });
});

describe('layer options: wrong types and ranges', () => {
  it.each([
    ['BatchNorm center a string', loose((o) => new BatchNorm(o), { center: 'no' }), "BatchNorm: center must be true or false, got 'no' (a string)"],
    ['BatchNorm scale a number', loose((o) => new BatchNorm(o), { scale: 0 }), 'BatchNorm: scale must be true or false, got 0'],
    ['BatchNorm momentum above 1', loose((o) => new BatchNorm(o), { momentum: 1.5 }), 'BatchNorm: momentum must be a number in [0, 1], got 1.5'],
    ['BatchNorm momentum below 0', loose((o) => new BatchNorm(o), { momentum: -0.1 }), 'BatchNorm: momentum must be a number in [0, 1], got -0.1'],
    ['BatchNorm momentum a string', loose((o) => new BatchNorm(o), { momentum: '0.9' }), "BatchNorm: momentum must be a number in [0, 1], got '0.9' (a string)"],
    ['BatchNorm epsilon 0', loose((o) => new BatchNorm(o), { epsilon: 0 }), 'BatchNorm: epsilon must be a positive finite number, got 0'],
    ['BatchNorm epsilon negative', loose((o) => new BatchNorm(o), { epsilon: -1e-3 }), 'BatchNorm: epsilon must be a positive finite number, got -0.001'],
    ['BatchNorm movingVariance', loose((o) => new BatchNorm(o), { movingVariance: 'sample' }), "BatchNorm: movingVariance must be one of 'unbiased', 'biased', got 'sample' (a string)"],
    ['Dense useBias a string', loose((o) => new Dense(3, o), { useBias: 'false' }), "Dense: useBias must be true or false, got 'false' (a string)"],
    ['Dense kernelInitializer not a function', loose((o) => new Dense(3, o), { kernelInitializer: 'glorot_uniform' }), "Dense: kernelInitializer must be a function, got 'glorot_uniform' (a string)"],
    ['Conv2d strides 0', loose((o) => new Conv2d(3, 3, o), { strides: 0 }), 'Conv2d: strides must be a positive integer or a pair of them, got 0'],
    ['Conv2d strides fractional', loose((o) => new Conv2d(3, 3, o), { strides: [2, 1.5] }), 'Conv2d: strides must be a positive integer or a pair of them, got [2,1.5]'],
    ['Conv2d padding', loose((o) => new Conv2d(3, 3, o), { padding: 'SAME' }), "Conv2d: padding must be one of 'same', 'valid', got 'SAME' (a string)"],
    ['Conv2d options not an object', loose((o) => new Conv2d(3, 3, o), 'same'), "Conv2d: options must be an object, got 'same' (a string)"],
    ['layer name empty', loose((o) => new Dense(3, o), { name: '' }), "Dense: name must be a non-empty string, got '' (a string)"],
    ['layer name a number', loose((o) => new ReLU(o), { name: 7 }), 'ReLU: name must be a non-empty string, got 7'],
    ['truncatedNormal stddev negative', loose((o) => truncatedNormalInitializer(o), { stddev: -1 }), 'truncatedNormal: stddev must be a number in [0, Infinity], got -1'],
  ])('%s', (_, make, message) => {
    expect(make).toThrow(message);
  });

  it.each([
    ['filters 0', () => new Conv2d(0, 3), 'Conv2d: filters must be a positive integer, got 0'],
    ['filters 2.5', () => new Conv2d(2.5, 3), 'Conv2d: filters must be a positive integer, got 2.5'],
    ['filters a string', () => new Conv2d('8' as never, 3), "Conv2d: filters must be a positive integer, got '8' (a string)"],
    ['units NaN', () => new Dense(Number.NaN), 'Dense: units must be a positive integer, got NaN'],
  ])('Conv2d/Dense %s', (_, make, message) => {
    expect(make).toThrow(message);
  });
});
