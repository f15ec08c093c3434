/**
 * Dead-tap trimming (conv2d-taps.ts): the live rectangle of hand-worked
 * geometries, and convolutions whose outer taps only read padding still
 * match the direct 7-loop convolution over the full kernel (float64
 * reference; sums of at most a few hundred products, atol 1e-5, rtol 1e-4),
 * with exactly zero kernel gradient at the dead taps.
 */
import { describe, expect, it } from 'vitest';
import { liveTaps, sliceKernel, trimmedGeometry, unsliceKernelGrad } from '../../../src/tensor/kernels/conv2d-taps.js';
import { conv2dBackwardInput, conv2dBackwardKernel, conv2dForward } from '../../../src/tensor/kernels/conv2d.js';
import { conv2dGeometry, type Padding } from '../../../src/tensor/kernels/im2col.js';
import { expectClose } from '../../helpers.js';
import { naiveConv, rand } from './reference.js';

describe('liveTaps', () => {
  it('a 3x3 SAME window over a 1x1 image reads only its centre tap', () => {
    expect(liveTaps(conv2dGeometry([1, 1, 1, 4], [3, 3, 4, 2], 1, 'same'))).toEqual({ ky0: 1, ky1: 2, kx0: 1, kx1: 2 });
    // stride 2 on 1x1: out 1, padTotal = 0*2 + 3 - 1 = 2, padTop 1: the centre again
    expect(liveTaps(conv2dGeometry([1, 1, 1, 4], [3, 3, 4, 2], 2, 'same'))).toEqual({ ky0: 1, ky1: 2, kx0: 1, kx1: 2 });
  });

  it('stride 2 SAME over 2x2: padTop 0, padBottom 1, so taps 0 and 1 of each axis', () => {
    const g = conv2dGeometry([1, 2, 2, 1], [3, 3, 1, 1], 2, 'same');
    expect([g.padTop, g.padBottom]).toEqual([0, 1]);
    const t = liveTaps(g)!;
    expect(t).toEqual({ ky0: 0, ky1: 2, kx0: 0, kx1: 2 });
    const trimmed = trimmedGeometry(g, t);
    expect([trimmed.kh, trimmed.kw, trimmed.padTop, trimmed.padLeft, trimmed.oh, trimmed.ow]).toEqual([2, 2, 0, 0, 1, 1]);
  });

  it('nothing to trim when every outer tap reads the image somewhere', () => {
    expect(liveTaps(conv2dGeometry([1, 28, 28, 1], [3, 3, 1, 4], 1, 'same'))).toBeNull();
    expect(liveTaps(conv2dGeometry([1, 2, 2, 1], [3, 3, 1, 4], 1, 'same'))).toBeNull();
    expect(liveTaps(conv2dGeometry([1, 5, 5, 1], [3, 3, 1, 4], 2, 'valid'))).toBeNull();
  });

  it('sliceKernel and unsliceKernelGrad cut and restore the live rectangle of an HWIO kernel', () => {
    const g = conv2dGeometry([1, 1, 2, 1], [3, 3, 1, 2], 1, 'same'); // h = 1: centre row only; w = 2: all three columns
    const t = liveTaps(g)!;
    expect(t).toEqual({ ky0: 1, ky1: 2, kx0: 0, kx1: 3 });
    const k = Float32Array.from({ length: 18 }, (_, i) => i); // k[ky, kx, 0, co] = (ky*3 + kx)*2 + co
    expect(Array.from(sliceKernel(k, g, t))).toEqual([6, 7, 8, 9, 10, 11]);
    expect(Array.from(unsliceKernelGrad(Float32Array.of(1, 2, 3, 4, 5, 6), g, t))).toEqual([0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0]);
  });
});

describe('convolutions with dead taps', () => {
  const cases: [[number, number, number, number], [number, number, number, number], number, Padding][] = [
    [[3, 1, 1, 5], [3, 3, 5, 7], 1, 'same'],
    [[2, 1, 1, 6], [3, 3, 6, 4], 2, 'same'],
    [[2, 2, 2, 3], [3, 3, 3, 5], 2, 'same'],
    [[1, 2, 3, 2], [5, 5, 2, 2], 1, 'same'],
    [[2, 1, 3, 20], [3, 3, 20, 24], 1, 'same'], // cout > 16, cin a multiple of 4
  ];
  cases.forEach(([xs, ks, s, padding], i) => {
    it(`x [${xs}] k [${ks}] stride ${s} ${padding}: forward and both gradients match the full kernel`, () => {
      const g = conv2dGeometry(xs, ks, s, padding);
      expect(liveTaps(g)).not.toBeNull();
      const x = rand(xs.reduce((a, b) => a * b), 100 + i);
      const k = rand(ks.reduce((a, b) => a * b), 110 + i);
      const gy = rand(g.n * g.oh * g.ow * g.cout, 120 + i);
      const ref = naiveConv(x, k, { n: xs[0], h: xs[1], w: xs[2], cin: xs[3], kh: ks[0], kw: ks[1], cout: ks[3], sh: s, sw: s, padding }, gy);
      expectClose(conv2dForward(x, k, g), ref.y, { atol: 1e-5, rtol: 1e-4 });
      expectClose(conv2dBackwardInput(gy, k, g), ref.gx, { atol: 1e-5, rtol: 1e-4 });
      const gk = conv2dBackwardKernel(x, gy, g);
      expectClose(gk, ref.gk, { atol: 1e-5, rtol: 1e-4 });
      const t = liveTaps(g)!;
      const tap = g.cin * g.cout;
      for (let ky = 0; ky < g.kh; ky++) {
        for (let kx = 0; kx < g.kw; kx++) {
          if (ky >= t.ky0 && ky < t.ky1 && kx >= t.kx0 && kx < t.kx1) continue;
          expect(gk.subarray((ky * g.kw + kx) * tap, (ky * g.kw + kx + 1) * tap).every((v) => v === 0)).toBe(true);
        }
      }
    });
  });
});
