/**
 * The fast group-norm kernel equals the reference bit for bit (same
 * operations in the same order) on awkward [N, S, G, K] layouts: ones,
 * primes, a single group, a single channel per group, with and without
 * gamma/beta, NaN included.
 */
import { describe, expect, it } from 'vitest';
import * as fast from '../../../src/tensor/kernels/group-norm-fast.js';
import * as ref from '../../../src/tensor/kernels/group-norm-reference.js';
import { Random } from '../../../src/index.js';

function data(n: number, seed: number, offset = 0): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => offset + 4 * rng.next() - 2);
}

describe('group-norm-fast equals group-norm-reference', () => {
  const layouts: ref.GroupLayout[] = [
    { n: 1, s: 1, g: 1, k: 2 }, { n: 3, s: 7, g: 2, k: 5 }, { n: 2, s: 1, g: 1, k: 13 },
    { n: 5, s: 11, g: 3, k: 1 }, { n: 1, s: 4, g: 7, k: 3 },
  ];
  for (const l of layouts) {
    for (const affine of [true, false]) {
      it(`${JSON.stringify(l)} affine ${affine}`, () => {
        const size = l.n * l.s * l.g * l.k;
        const x = data(size, 1, 30);
        if (size > 4) x[3] = NaN;
        const gy = data(size, 2);
        const gamma = affine ? data(l.g * l.k, 3, 1) : null;
        const beta = affine ? data(l.g * l.k, 4) : null;
        const r = ref.groupNormForward(x, l, gamma, beta, 1e-3);
        const f = fast.groupNormForward(x, l, gamma, beta, 1e-3);
        expect(Array.from(f.y)).toEqual(Array.from(r.y));
        expect(Array.from(f.mean)).toEqual(Array.from(r.mean));
        expect(Array.from(f.invStd)).toEqual(Array.from(r.invStd));
        const rb = ref.groupNormBackward(x, gy, l, r.mean, r.invStd, gamma, true);
        const fb = fast.groupNormBackward(x, gy, l, f.mean, f.invStd, gamma, true);
        expect(Array.from(fb.gx!)).toEqual(Array.from(rb.gx!));
        expect(Array.from(fb.gGamma)).toEqual(Array.from(rb.gGamma));
        expect(Array.from(fb.gBeta)).toEqual(Array.from(rb.gBeta));
        expect(fast.groupNormBackward(x, gy, l, f.mean, f.invStd, gamma, false).gx).toBeNull();
      });
    }
  }
});
