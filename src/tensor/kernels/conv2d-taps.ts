/**
 * Dead taps. A kernel tap (ky, kx) is dead when, for every output position,
 * it lands on padding: with SAME padding a 3x3 window over a 1x1 image only
 * ever reads its centre tap, and the other eight multiply zeros. Cutting the
 * kernel down to the rectangle of live taps gives the same convolution with
 * fewer products (the lesson network's last five layers do 1/9 or 4/9 of
 * the work), and a smaller kernel to copy:
 *
 *   y  = conv(x, K[ky0:ky1, kx0:kx1])           padTop - ky0, padLeft - kx0
 *   gx = the same, through the trimmed kernel
 *   gK = 0 outside the live rectangle           dead taps only saw zeros
 *
 * Tap ky is live if some output row oy reads a real input row:
 *   0 <= oy*sh - padTop + ky < h   for some 0 <= oy < oh
 * (and likewise kx). Only whole outer rows and columns of dead taps are cut;
 * a dead tap between live ones (a stride larger than the image) stays, and
 * still multiplies zeros. One difference from the full product: a NaN or
 * infinite weight in a dead tap no longer turns the output into NaN.
 */
import type { Conv2dGeometry } from './im2col.js';

/** The live taps: rows ky0 <= ky < ky1, columns kx0 <= kx < kx1. */
export interface LiveTaps {
  readonly ky0: number;
  readonly ky1: number;
  readonly kx0: number;
  readonly kx1: number;
}

/** The live rectangle, or null when every outer row and column is live (nothing to trim). */
export function liveTaps(g: Conv2dGeometry): LiveTaps | null {
  const [ky0, ky1] = liveRange(g.kh, g.oh, g.sh, g.padTop, g.h);
  const [kx0, kx1] = liveRange(g.kw, g.ow, g.sw, g.padLeft, g.w);
  if (ky0 === 0 && ky1 === g.kh && kx0 === 0 && kx1 === g.kw) return null;
  return { ky0, ky1, kx0, kx1 };
}

/** [first, last + 1) of the taps along one axis that read the image for some output index. */
function liveRange(k: number, out: number, stride: number, padBefore: number, size: number): [number, number] {
  let first = 0;
  while (first < k - 1 && !isLive(first, out, stride, padBefore, size)) first++;
  let last = k - 1;
  while (last > first && !isLive(last, out, stride, padBefore, size)) last--;
  return [first, last + 1];
}

/** Whether tap t reads input index o*stride - padBefore + t inside [0, size) for some o < out. */
function isLive(t: number, out: number, stride: number, padBefore: number, size: number): boolean {
  for (let o = 0; o < out; o++) {
    const i = o * stride - padBefore + t;
    if (i >= 0 && i < size) return true;
  }
  return false;
}

/** The geometry of the same convolution with the kernel cut to `t`. */
export function trimmedGeometry(g: Conv2dGeometry, t: LiveTaps): Conv2dGeometry {
  const kh = t.ky1 - t.ky0;
  const kw = t.kx1 - t.kx0;
  const padTop = g.padTop - t.ky0;
  const padLeft = g.padLeft - t.kx0;
  return {
    ...g, kh, kw, padTop, padLeft,
    padBottom: (g.oh - 1) * g.sh + kh - g.h - padTop,
    padRight: (g.ow - 1) * g.sw + kw - g.w - padLeft,
  };
}

/** K[ky0:ky1, kx0:kx1, :, :] of an HWIO kernel [kh, kw, cin, cout]. */
export function sliceKernel(k: Float32Array, g: Conv2dGeometry, t: LiveTaps): Float32Array {
  const tap = g.cin * g.cout; // one (ky, kx) tap: a [cin, cout] matrix
  const out = new Float32Array((t.ky1 - t.ky0) * (t.kx1 - t.kx0) * tap);
  let d = 0;
  for (let ky = t.ky0; ky < t.ky1; ky++) {
    const s = (ky * g.kw + t.kx0) * tap;
    const len = (t.kx1 - t.kx0) * tap;
    out.set(k.subarray(s, s + len), d);
    d += len;
  }
  return out;
}

/** The full [kh, kw, cin, cout] gradient: the trimmed one in place, zeros at the dead taps. */
export function unsliceKernelGrad(gk: Float32Array, g: Conv2dGeometry, t: LiveTaps): Float32Array {
  const tap = g.cin * g.cout;
  const out = new Float32Array(g.kh * g.kw * tap);
  let s = 0;
  for (let ky = t.ky0; ky < t.ky1; ky++) {
    const len = (t.kx1 - t.kx0) * tap;
    out.set(gk.subarray(s, s + len), (ky * g.kw + t.kx0) * tap);
    s += len;
  }
  return out;
}
