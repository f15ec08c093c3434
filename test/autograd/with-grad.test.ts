import { describe, expect, it } from 'vitest';
import { isGradEnabled, mul, noGrad, tensor, withGrad } from '../../src/index.js';

describe('withGrad', () => {
  it('records inside noGrad and restores the mode, also when fn throws', () => {
    const w = tensor([2]).requireGrad();
    noGrad(() => {
      const y = withGrad(() => mul(w, 3));
      expect(y.gradFn?.op).toBe('mul');
      expect(isGradEnabled()).toBe(false);
      expect(() => withGrad(() => { throw new Error('boom'); })).toThrow('boom');
      expect(isGradEnabled()).toBe(false);
      expect(mul(w, 3).gradFn).toBeNull();
    });
    expect(isGradEnabled()).toBe(true);
    expect(() => withGrad(42 as never)).toThrow(/withGrad/);
  });
});
