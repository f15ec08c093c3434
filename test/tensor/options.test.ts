import { describe, expect, it } from 'vitest';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions } from '../../src/tensor/options.js';

describe('checkOptions', () => {
  const valid = ['strides', 'padding', 'useBias', 'epsilon'];
  it('accepts undefined and known keys', () => {
    expect(() => checkOptions('Conv2d', undefined, valid)).not.toThrow();
    expect(() => checkOptions('Conv2d', { strides: 2, padding: 'same' }, valid)).not.toThrow();
  });
  it('names the owner, the unknown key, a suggestion and the valid keys', () => {
    expect(() => checkOptions('Conv2d', { stride: 2 }, valid)).toThrow(
      "Conv2d: unknown option 'stride' (did you mean 'strides'?); valid options: strides, padding, useBias, epsilon",
    );
    expect(() => checkOptions('Dense', { use_bias: false }, valid)).toThrow("(did you mean 'useBias'?)");
    expect(() => checkOptions('BatchNorm', { eps: 1e-5 }, valid)).toThrow("unknown option 'eps'");
  });
  it('suggests the key an abbreviation stands for (three letters at least, one match)', () => {
    expect(() => checkOptions('BatchNorm', { eps: 1e-5 }, valid)).toThrow("BatchNorm: unknown option 'eps' (did you mean 'epsilon'?)");
    expect(() => checkOptions('X', { st: 1 }, ['strides', 'stddev'])).toThrow(/unknown option 'st'; valid/);
    expect(() => checkOptions('X', { str: 1 }, ['stride', 'strides'])).toThrow(/unknown option 'str'; valid/); // ambiguous: no guess
  });
  it('gives no suggestion when nothing is close', () => {
    expect(() => checkOptions('Dense', { frobnicate: 1 }, valid)).toThrow(/unknown option 'frobnicate'; valid options/);
  });
  it('refuses non-objects', () => {
    expect(() => checkOptions('Dense', null, valid)).toThrow('Dense: options must be an object, got null');
    expect(() => checkOptions('Dense', [1], valid)).toThrow('options must be an object');
    expect(() => checkOptions('Dense', 3, valid)).toThrow('options must be an object, got 3');
  });
});

describe('value checks', () => {
  it('checkBoolean', () => {
    expect(checkBoolean('BatchNorm', 'center', false)).toBe(false);
    expect(() => checkBoolean('BatchNorm', 'center', 'no')).toThrow("BatchNorm: center must be true or false, got 'no' (a string)");
  });
  it('checkNumber', () => {
    expect(checkNumber('BatchNorm', 'momentum', 0.5, 0, 1)).toBe(0.5);
    expect(() => checkNumber('BatchNorm', 'momentum', 2, 0, 1)).toThrow('momentum must be a number in [0, 1], got 2');
    expect(() => checkNumber('X', 'y', Number.NaN)).toThrow('y must be a finite number, got NaN');
  });
  it('checkInteger', () => {
    expect(checkInteger('Conv2d', 'filters', 3, 1)).toBe(3);
    expect(() => checkInteger('Conv2d', 'filters', 3.5, 1)).toThrow('filters must be an integer >= 1, got 3.5');
  });
  it('checkOneOf', () => {
    expect(checkOneOf('Conv2d', 'padding', 'same', ['same', 'valid'])).toBe('same');
    expect(() => checkOneOf('Conv2d', 'padding', 'full', ['same', 'valid'])).toThrow("padding must be one of 'same', 'valid', got 'full' (a string)");
  });
});
