/**
 * Window geometry against (1) a naive reference that slides the window one
 * output at a time and grows the padding one pixel at a time until the last
 * window fits, over every small size/window/stride/dilation combination;
 * (2) the worked examples of TensorFlow's padding notes and Keras's
 * conv_utils.conv_output_length (integer results, compared exactly).
 */
import { describe, expect, it } from 'vitest';
import { conv2dGeometry } from '../../../src/tensor/kernels/im2col.js';
import { window2d, windowAxis, type Padding } from '../../../src/tensor/kernels/window.js';

/** Slides the window: VALID keeps the windows that fit; SAME starts a window at every stride step inside the input. */
function naiveAxis(size: number, k: number, s: number, d: number, padding: Padding): [number, number, number] | null {
  const span = (k - 1) * d + 1; // the last tap of a window starting at p reads p + (k-1)*d
  if (padding === 'valid') {
    let out = 0;
    while (out * s + span <= size) out++;
    return out === 0 ? null : [out, 0, 0];
  }
  let out = 0;
  while (out * s < size) out++;
  let total = 0;
  while ((out - 1) * s + span > size + total) total++; // the smallest padding that holds the last window
  const before = Math.floor(total / 2); // TF: the odd pixel goes after
  return [out, before, total - before];
}

/** Keras conv_utils.conv_output_length, as written there (with dilation). */
function kerasOutputLength(size: number, k: number, padding: Padding, s: number, d: number): number {
  const dilated = k + (k - 1) * (d - 1);
  const out = padding === 'same' ? size : size - dilated + 1;
  return Math.floor((out + s - 1) / s);
}

describe('windowAxis', () => {
  it('matches the naive sliding window for sizes 1..12, windows 1..5, strides 1..4, dilations 1..3', () => {
    let checked = 0;
    for (const padding of ['same', 'valid'] as const) {
      for (let size = 1; size <= 12; size++) {
        for (let k = 1; k <= 5; k++) {
          for (let s = 1; s <= 4; s++) {
            for (let d = 1; d <= 3; d++) {
              const want = naiveAxis(size, k, s, d, padding);
              if (want === null) {
                expect(() => windowAxis(size, k, s, d, padding, 'pool')).toThrow('pool: window');
                continue;
              }
              const got = windowAxis(size, k, s, d, padding);
              expect([got.out, got.padBefore, got.padAfter]).toEqual(want);
              expect(got.out).toBe(kerasOutputLength(size, k, padding, s, d));
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("reproduces TensorFlow's padding notes: width 13, filter 6, stride 5", () => {
    // SAME: out = ceil(13/5) = 3, pad = max((3-1)*5 + 6 - 13, 0) = 3 -> 1 left, 2 right
    expect(windowAxis(13, 6, 5, 1, 'same')).toEqual({ out: 3, padBefore: 1, padAfter: 2 });
    // VALID: out = ceil((13 - 6 + 1) / 5) = 2; columns 12 and 13 are dropped
    expect(windowAxis(13, 6, 5, 1, 'valid')).toEqual({ out: 2, padBefore: 0, padAfter: 0 });
  });

  it('widens a dilated window to (k-1)*d + 1', () => {
    expect(windowAxis(10, 3, 1, 2, 'valid')).toEqual({ out: 6, padBefore: 0, padAfter: 0 }); // span 5
    expect(windowAxis(10, 3, 1, 2, 'same')).toEqual({ out: 10, padBefore: 2, padAfter: 2 });
    expect(windowAxis(7, 3, 2, 3, 'same')).toEqual({ out: 4, padBefore: 3, padAfter: 3 }); // span 7, total 6
  });

  it("centres an odd stride-1 SAME window on its output pixel (the meaning of 'same')", () => {
    for (const [k, d] of [[3, 1], [5, 1], [3, 2], [7, 3]] as const) {
      const { out, padBefore } = windowAxis(9, k, 1, d, 'same');
      expect(out).toBe(9);
      for (let o = 0; o < out; o++) expect(o - padBefore + ((k - 1) * d) / 2).toBe(o);
    }
  });
});

describe('window2d', () => {
  it('combines the two axes with separate strides and dilations', () => {
    const g = window2d({ size: [28, 9], window: [3, 2], strides: [2, 1], dilations: [1, 3], padding: 'same' });
    expect(g).toEqual({
      kh: 3, kw: 2, sh: 2, sw: 1, dh: 1, dw: 3, oh: 14, ow: 9,
      padTop: 0, padBottom: 1, padLeft: 1, padRight: 2, padding: 'same',
    });
  });

  it('names the op and what was wrong', () => {
    expect(() => window2d({ op: 'maxPool2d', windowName: 'pool', size: [2, 2], window: [3, 3], padding: 'valid', inputShape: [1, 2, 2, 1] }))
      .toThrow('maxPool2d: pool 3x3 with VALID padding does not fit input 2x2 (input [1,2,2,1])');
    expect(() => window2d({ op: 'pool', size: [3, 3], window: [2, 2], dilations: 3, padding: 'valid' }))
      .toThrow('pool: window 2x2 (dilated to 4x4) with VALID padding does not fit input 3x3');
    expect(window2d({ size: [4, 4], window: [2, 2], dilations: 3, padding: 'valid' }).oh).toBe(1);
    expect(() => window2d({ op: 'pool', size: [4, 4], window: [2, 2], strides: [1, 0], padding: 'same' }))
      .toThrow('pool: strides must be a positive integer or a pair of them, got [1,0]');
    expect(() => window2d({ op: 'pool', size: [4, 4], window: [2, 2], dilations: 1.5, padding: 'same' }))
      .toThrow('pool: dilations must be a positive integer or a pair of them, got 1.5');
    expect(() => window2d({ op: 'pool', size: [4, 4], window: [2, 2], padding: 'SAME' as Padding }))
      .toThrow("pool: unknown padding 'SAME'; expected 'same' or 'valid'");
  });
});

describe('conv2dGeometry (built on window2d)', () => {
  it('agrees with windowAxis on both axes for every padding and stride', () => {
    for (const padding of ['same', 'valid'] as const) {
      for (const s of [1, 2, 3]) {
        const g = conv2dGeometry([2, 11, 8, 3], [3, 4, 3, 5], [s, 1], padding);
        const y = windowAxis(11, 3, s, 1, padding);
        const x = windowAxis(8, 4, 1, 1, padding);
        expect([g.oh, g.padTop, g.padBottom, g.ow, g.padLeft, g.padRight]).toEqual([y.out, y.padBefore, y.padAfter, x.out, x.padBefore, x.padAfter]);
      }
    }
  });
});
