/**
 * The dilated / grouped convolution kernels against a naive six-deep loop
 * (float64 sums straight from the formula, its own padding found by
 * sliding), forward and both backwards, on awkward shapes: sizes 1 and
 * primes, dilations 1..3 (also unequal), groups 1, 2, 3 and depthwise with
 * a channel multiplier, SAME with odd total padding, strides larger than
 * the dilated window, and a chunk boundary inside an image. Tolerance:
 * atol 1e-5, rtol 1e-5 (float32 GEMM sums against float64; values in [-1, 1],
 * at most 5*5*3 = 75 terms). Also: with dilation 1 and one group it equals
 * the plain conv2d kernels on both backends, and NaN in x propagates only
 * to the outputs whose taps read it.
 */
import { describe, expect, it } from 'vitest';
import { Random, setBackend, wasmAvailable } from '../../../src/index.js';
import { conv2dForward, conv2dGeometry } from '../../../src/tensor/kernels/conv2d.js';
import {
  groupedConvBackwardInput, groupedConvBackwardKernel, groupedConvForward, groupedConvGeometry,
} from '../../../src/tensor/kernels/conv2d-grouped.js';
import type { Padding } from '../../../src/tensor/kernels/window.js';
import { expectClose } from '../../helpers.js';

interface Case { n: number; h: number; w: number; cin: number; kh: number; kw: number; cout: number; s: [number, number]; d: [number, number]; groups: number; padding: Padding }

function axis(size: number, k: number, s: number, d: number, padding: Padding): [number, number] {
  const span = (k - 1) * d + 1;
  let out = 0;
  if (padding === 'valid') {
    while (out * s + span <= size) out++;
    return [out, 0];
  }
  while (out * s < size) out++;
  let total = 0;
  while ((out - 1) * s + span > size + total) total++;
  return [out, Math.floor(total / 2)];
}

function naive(x: Float32Array, k: Float32Array, gy: Float32Array | null, t: Case): { y: Float64Array; gx: Float64Array; gk: Float64Array } {
  const [oh, pt] = axis(t.h, t.kh, t.s[0], t.d[0], t.padding);
  const [ow, pl] = axis(t.w, t.kw, t.s[1], t.d[1], t.padding);
  const ci = t.cin / t.groups;
  const co = t.cout / t.groups;
  const y = new Float64Array(t.n * oh * ow * t.cout);
  const gx = new Float64Array(x.length);
  const gk = new Float64Array(k.length);
  for (let b = 0; b < t.n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let o = 0; o < t.cout; o++) {
    const yi = ((b * oh + oy) * ow + ox) * t.cout + o;
    const gi = Math.floor(o / co);
    for (let ky = 0; ky < t.kh; ky++) for (let kx = 0; kx < t.kw; kx++) for (let c = 0; c < ci; c++) {
      const iy = oy * t.s[0] - pt + ky * t.d[0];
      const ix = ox * t.s[1] - pl + kx * t.d[1];
      if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
      const xi = ((b * t.h + iy) * t.w + ix) * t.cin + gi * ci + c;
      const ki = ((ky * t.kw + kx) * ci + c) * t.cout + o;
      y[yi] += x[xi]! * k[ki]!;
      if (gy) {
        gx[xi] += gy[yi]! * k[ki]!;
        gk[ki] += gy[yi]! * x[xi]!;
      }
    }
  }
  return { y, gx, gk };
}

function rand(size: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: size }, () => rng.next() * 2 - 1);
}

const CASES: Case[] = [];
for (const padding of ['same', 'valid'] as const) {
  for (const [h, w] of [[1, 1], [7, 5], [11, 13]] as const) {
    for (const [cin, cout, groups] of [[3, 4, 1], [4, 6, 2], [6, 3, 3], [5, 10, 5], [3, 3, 3]] as const) {
      for (const [kh, kw, s, d] of [[3, 3, [1, 1], [2, 2]], [2, 3, [2, 1], [3, 1]], [3, 2, [1, 1], [1, 1]], [1, 1, [2, 2], [1, 1]], [2, 2, [5, 4], [2, 2]]] as [number, number, [number, number], [number, number]][]) {
        if (padding === 'valid' && (h < (kh - 1) * d[0] + 1 || w < (kw - 1) * d[1] + 1)) continue;
        CASES.push({ n: 2, h, w, cin, kh, kw, cout, s, d, groups, padding });
      }
    }
  }
}

describe('grouped / dilated convolution against a naive loop', () => {
  it('covers depthwise, dilation, SAME with odd padding and stride beyond the window', () => {
    expect(CASES.some((t) => t.groups === t.cin && t.cout === 2 * t.cin)).toBe(true);
    expect(CASES.some((t) => t.padding === 'same' && t.d[0] === 3 && t.h === 7)).toBe(true);
    expect(CASES.some((t) => t.s[0] > (t.kh - 1) * t.d[0] + 1)).toBe(true);
    expect(CASES.length).toBeGreaterThan(80);
  });

  it.each(CASES.map((t, i) => [`${t.h}x${t.w}x${t.cin} k${t.kh}x${t.kw}x${t.cout} s${t.s} d${t.d} G${t.groups} ${t.padding}`, t, i] as const))('%s', (_, t, i) => {
    const g = groupedConvGeometry([t.n, t.h, t.w, t.cin], [t.kh, t.kw, t.cin / t.groups, t.cout], t.s, t.padding, t.d, t.groups);
    const x = rand(t.n * t.h * t.w * t.cin, 3 * i + 1);
    const k = rand(t.kh * t.kw * (t.cin / t.groups) * t.cout, 3 * i + 2);
    const gy = rand(t.n * g.win.oh * g.win.ow * t.cout, 3 * i + 3);
    const ref = naive(x, k, gy, t);
    const tol = { atol: 1e-5, rtol: 1e-5 };
    expectClose(groupedConvForward(x, k, g), ref.y, tol);
    expectClose(groupedConvBackwardInput(gy, k, g), ref.gx, tol);
    expectClose(groupedConvBackwardKernel(x, gy, g), ref.gk, tol);
    // chunks of 7 output positions: boundaries inside an image row and between images
    expectClose(groupedConvForward(x, k, g, { chunkRows: 7 }), ref.y, tol);
    expectClose(groupedConvBackwardInput(gy, k, g, { chunkRows: 7 }), ref.gx, tol);
    expectClose(groupedConvBackwardKernel(x, gy, g, { chunkRows: 7 }), ref.gk, tol);
  });
});

describe('agreement and NaN', () => {
  it('with dilation 1 and one group it equals the plain conv2d kernel (both backends)', () => {
    const backends = wasmAvailable() ? (['js', 'wasm'] as const) : (['js'] as const);
    for (const b of backends) {
      const previous = setBackend(b);
      try {
        const x = rand(2 * 9 * 8 * 3, 91);
        const k = rand(3 * 3 * 3 * 5, 92);
        const plain = conv2dForward(x, k, conv2dGeometry([2, 9, 8, 3], [3, 3, 3, 5], 2, 'same'));
        const grouped = groupedConvForward(x, k, groupedConvGeometry([2, 9, 8, 3], [3, 3, 3, 5], 2, 'same', 1, 1));
        expectClose(grouped, plain, { atol: 1e-6, rtol: 1e-6 });
      } finally {
        setBackend(previous);
      }
    }
  });

  it('a NaN in x reaches exactly the outputs whose dilated taps read it (not the pixels skipped between taps)', () => {
    // 1x5 input, kernel 1x2 with dilation 2, VALID: y[ox] = x[ox] k0 + x[ox + 2] k1, ox < 3.
    const g = groupedConvGeometry([1, 1, 5, 1], [1, 2, 1, 1], 1, 'valid', 2, 1);
    const x = Float32Array.of(1, NaN, 2, 3, 4);
    const y = groupedConvForward(x, Float32Array.of(1, 10), g);
    expect(Number.isNaN(y[1]!)).toBe(true);
    expect([y[0], y[2]]).toEqual([1 + 20, 2 + 40]);
  });
});
