/**
 * The pooling kernels against a naive reference that pads the input
 * explicitly (a marker for "not a cell") with padding it finds itself by
 * growing it until the last window fits, then slides every window: max
 * over the non-pad cells, mean over them. Awkward shapes: sizes 1 and
 * primes, windows larger than strides and strides larger than windows,
 * SAME with odd total padding, non-square windows. Max pooling is compared
 * exactly (it copies values); average pooling to 1 ulp-ish (atol 1e-6,
 * float64 accumulation on both sides, one float32 rounding each).
 * The backward passes are checked by the adjoint identity
 * <gy, forward(x)> linear for avg (sum(gx * x) == sum(gy * y)) and for max
 * by routing to the naive argmax (first maximum).
 */
import { describe, expect, it } from 'vitest';
import {
  avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward,
} from '../../../src/tensor/kernels/pool2d.js';
import { window2d, type Padding } from '../../../src/tensor/kernels/window.js';
import { Random } from '../../../src/index.js';
import { expectClose } from '../../helpers.js';

interface Case { n: number; h: number; w: number; c: number; k: [number, number]; s: [number, number]; padding: Padding }

/** Output size and leading pad, found by sliding (independent of window.ts). */
function naiveAxis(size: number, k: number, s: number, padding: Padding): [number, number] {
  if (padding === 'valid') {
    let out = 0;
    while (out * s + k <= size) out++;
    return [out, 0];
  }
  let out = 0;
  while (out * s < size) out++;
  let total = 0;
  while ((out - 1) * s + k > size + total) total++;
  return [out, Math.floor(total / 2)];
}

/** Naive pooling: for each window, the list of (flat index, value) of its cells inside the image. */
function naive(x: Float32Array, t: Case): { max: Float32Array; arg: Int32Array; avg: Float32Array; cells: number[][] } {
  const [oh, pt] = naiveAxis(t.h, t.k[0], t.s[0], t.padding);
  const [ow, pl] = naiveAxis(t.w, t.k[1], t.s[1], t.padding);
  const size = t.n * oh * ow * t.c;
  const max = new Float32Array(size);
  const arg = new Int32Array(size);
  const avg = new Float32Array(size);
  const cells: number[][] = [];
  let o = 0;
  for (let b = 0; b < t.n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) for (let ch = 0; ch < t.c; ch++, o++) {
    const idx: number[] = [];
    for (let ky = 0; ky < t.k[0]; ky++) for (let kx = 0; kx < t.k[1]; kx++) {
      const iy = oy * t.s[0] - pt + ky;
      const ix = ox * t.s[1] - pl + kx;
      if (iy >= 0 && iy < t.h && ix >= 0 && ix < t.w) idx.push(((b * t.h + iy) * t.w + ix) * t.c + ch);
    }
    cells.push(idx);
    const nan = idx.find((i) => Number.isNaN(x[i]!));
    let best = nan ?? idx[0]!;
    if (nan === undefined) for (const i of idx) if (x[i]! > x[best]!) best = i;
    max[o] = x[best]!;
    arg[o] = best;
    avg[o] = idx.reduce((a, i) => a + x[i]!, 0) / idx.length;
  }
  return { max, arg, avg, cells };
}

const CASES: Case[] = [];
for (const padding of ['same', 'valid'] as const) {
  for (const [h, w] of [[1, 1], [5, 7], [7, 2], [11, 13]] as const) {
    for (const [k, s] of [[[1, 1], [1, 1]], [[2, 2], [2, 2]], [[3, 3], [2, 2]], [[3, 2], [1, 3]], [[2, 2], [3, 3]], [[5, 3], [2, 1]]] as [[number, number], [number, number]][]) {
      if (padding === 'valid' && (h < k[0] || w < k[1])) continue;
      CASES.push({ n: 2, h, w, c: 3, k, s, padding });
    }
  }
}

function data(t: Case, seed: number, ties: boolean): Float32Array {
  const rng = new Random(seed);
  const x = new Float32Array(t.n * t.h * t.w * t.c);
  for (let i = 0; i < x.length; i++) x[i] = ties ? rng.int(3) - 1 : rng.next() * 2 - 1;
  return x;
}

describe('pooling kernels against a naive loop', () => {
  it('covers SAME with odd total padding and strides larger than the window', () => {
    const total = (size: number, k: number, st: number): number => (naiveAxis(size, k, st, 'same')[0] - 1) * st + k - size;
    const oddPad = CASES.some((t) => t.padding === 'same' && total(t.h, t.k[0], t.s[0]) % 2 === 1);
    expect(oddPad).toBe(true);
    expect(CASES.some((t) => t.s[0] > t.k[0])).toBe(true);
    expect(CASES.length).toBeGreaterThan(30);
  });

  it.each(CASES.map((t) => [`${t.h}x${t.w} pool ${t.k.join('x')} strides ${t.s.join(',')} ${t.padding}`, t] as const))('%s', (_, t) => {
    const g = window2d({ size: [t.h, t.w], window: t.k, strides: t.s, padding: t.padding });
    for (const ties of [false, true]) {
      const x = data(t, t.h * 31 + t.w + t.k[0] * 7 + t.s[1], ties);
      const ref = naive(x, t);
      const { y, argmax } = maxPool2dForward(x, t, g);
      expect(Array.from(y)).toEqual(Array.from(ref.max));
      expect(Array.from(argmax)).toEqual(Array.from(ref.arg)); // the first maximum, ties included
      expectClose(avgPool2dForward(x, t, g), ref.avg, { atol: 1e-6 });

      const gy = data({ ...t, h: g.oh, w: g.ow }, 5, false);
      const gxMax = new Float32Array(x.length);
      const gxAvg = new Float64Array(x.length);
      ref.cells.forEach((idx, o) => {
        gxMax[ref.arg[o]!] += gy[o]!;
        for (const i of idx) gxAvg[i] += gy[o]! / idx.length;
      });
      expectClose(maxPool2dBackward(gy, argmax, x.length), gxMax, { atol: 1e-6 });
      expectClose(avgPool2dBackward(gy, t, g), gxAvg, { atol: 1e-6 });
    }
  });
});

describe('NaN and infinities', () => {
  const t: Case = { n: 1, h: 4, w: 4, c: 1, k: [2, 2], s: [2, 2], padding: 'valid' };
  const g = window2d({ size: [4, 4], window: [2, 2], strides: 2, padding: 'valid' });

  it('a window with a NaN gives NaN (max and avg) and the gradient goes to the first NaN', () => {
    const x = Float32Array.from([1, 2, 0, 0, NaN, 3, 0, 0, 0, 0, -Infinity, -Infinity, 0, 0, -Infinity, -Infinity]);
    x[5] = NaN; // a second NaN in the first window, after the first
    const { y, argmax } = maxPool2dForward(x, t, g);
    expect(Number.isNaN(y[0]!)).toBe(true);
    expect(argmax[0]).toBe(4);
    expect(y[1]).toBe(0);
    expect(y[3]).toBe(-Infinity); // an all -Infinity window still picks a cell
    expect(argmax[3]).toBe(10);
    const avg = avgPool2dForward(x, t, g);
    expect(Number.isNaN(avg[0]!)).toBe(true);
    expect(avg[1]).toBe(0);
    const gx = maxPool2dBackward(Float32Array.of(1, 2, 3, 4), argmax, 16);
    expect(gx[4]).toBe(1);
    expect(gx[5]).toBe(0);
  });

  it('a NaN after a larger number still wins', () => {
    const x = Float32Array.from([5, NaN, 1, 1, 7, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const { y, argmax } = maxPool2dForward(x, t, g);
    expect(Number.isNaN(y[0]!)).toBe(true);
    expect(argmax[0]).toBe(1);
  });
});
