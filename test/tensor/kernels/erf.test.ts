/**
 * erf and erfc (src/tensor/kernels/erf.ts) against Python's math.erf and
 * math.erfc (float64), from test/fixtures/torch/new-ops.py, on a 1/64 grid
 * over [-7, 7] and points at the series/fraction switch (2.5) and far in the
 * tail. Tolerances: erf 1e-14 relative; erfc 1e-11 relative (1 - series loses
 * up to ~3 digits of erfc's ~1e-4 just below 2.5); and rounded to float32
 * both give the same float32 as the reference at every point.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { erf, erfc } from '../../../src/tensor/kernels/erf.js';
import { expectClose } from '../../helpers.js';

const { x, erf: erfRef, erfc: erfcRef } = (
  JSON.parse(readFileSync(new URL('../../fixtures/torch/new-ops.json', import.meta.url), 'utf8')) as { erf: { x: number[]; erf: number[]; erfc: number[] } }
).erf;

describe('erf', () => {
  it('matches math.erf to 1e-14 relative', () => {
    expect(x.length).toBeGreaterThan(900);
    expectClose(x.map(erf), erfRef, { atol: 1e-300, rtol: 1e-14 });
  });

  it('matches math.erfc to 1e-11 relative, deep into the tail (erfc(26.5) ~ 1e-307)', () => {
    expectClose(x.map(erfc), erfcRef, { atol: 1e-300, rtol: 1e-11 });
    expect(erfc(26.5)).toBeGreaterThan(0);
  });

  it('rounds to the same float32 as the reference everywhere', () => {
    const bad = x.filter((v, i) => Math.fround(erf(v)) !== Math.fround(erfRef[i]!) || Math.fround(erfc(v)) !== Math.fround(erfcRef[i]!));
    expect(bad).toEqual([]);
  });

  it('is odd, saturates at +-Infinity and propagates NaN', () => {
    for (const v of [0.1, 1.3, 2.5, 4]) expect(erf(-v)).toBe(-erf(v));
    expect(erf(0)).toBe(0);
    expect([erf(Infinity), erf(-Infinity), erfc(Infinity), erfc(-Infinity)]).toEqual([1, -1, 0, 2]);
    expect(erf(NaN)).toBeNaN();
    expect(erfc(NaN)).toBeNaN();
  });
});
