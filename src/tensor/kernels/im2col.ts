/**
 * Convolution geometry and the im2col / col2im pair that turns a
 * convolution into a matrix multiply. The output size and padding follow
 * TensorFlow's SAME/VALID rules, computed by `window2d` (./window.ts).
 */
import { formatShape, type Shape } from '../shape.js';
import { window2d, type Padding, type Window2d } from './window.js';

export type { Padding } from './window.js';

/**
 * Everything a conv2d kernel needs: x [n,h,w,cin], kernel [kh,kw,cin,cout],
 * y [n,oh,ow,cout]; the window fields (sizes, strides, output size, pads) are
 * `window2d`'s, without dilation.
 */
export interface Conv2dGeometry extends Omit<Window2d, 'dh' | 'dw'> {
  /** Batch size. */
  readonly n: number;
  /** Input height. */
  readonly h: number;
  /** Input width. */
  readonly w: number;
  /** Input channels. */
  readonly cin: number;
  /** Output channels. */
  readonly cout: number;
}

/**
 * Validates an NHWC input shape, an HWIO kernel shape, strides (a positive
 * integer or a [vertical, horizontal] pair) and padding, and computes the
 * output size and the padding on each side (`window2d`, no dilation). Errors
 * name `op` and the shapes.
 */
export function conv2dGeometry(
  inputShape: Shape, kernelShape: Shape,
  strides: number | readonly [number, number], padding: Padding, op = 'conv2d',
): Conv2dGeometry {
  if (inputShape.length !== 4) throw new Error(`${op}: input ${formatShape(inputShape)} must have rank 4 [batch, height, width, channels], got rank ${inputShape.length}`);
  if (kernelShape.length !== 4) throw new Error(`${op}: kernel ${formatShape(kernelShape)} must have rank 4 [height, width, inChannels, outChannels], got rank ${kernelShape.length}`);
  const [n, h, w, cin] = inputShape as [number, number, number, number];
  const [kh, kw, kin, cout] = kernelShape as [number, number, number, number];
  if (cin !== kin) throw new Error(`${op}: input ${formatShape(inputShape)} has ${cin} channels but kernel ${formatShape(kernelShape)} expects ${kin}`);
  for (const [name, size, k] of [['height', h, kh], ['width', w, kw]] as const) {
    if (padding === 'valid' && size > 0 && k >= 1 && size < k) {
      throw new Error(`${op}: with 'valid' padding the input ${name} must be at least the kernel ${name}, but input ${formatShape(inputShape)} has ${size} and kernel ${formatShape(kernelShape)} has ${k}`);
    }
  }
  const g = window2d({ op, size: [h, w], window: [kh, kw], strides, padding, inputShape, windowShape: kernelShape, windowName: 'kernel' });
  const { sh, sw, oh, ow, padTop, padBottom, padLeft, padRight } = g;
  return { n, h, w, cin, kh, kw, cout, sh, sw, oh, ow, padTop, padBottom, padLeft, padRight, padding };
}

/**
 * The output columns [lo, hi) whose whole window row lies inside the image
 * (0 <= ox*sw - padLeft and ox*sw - padLeft + kw <= w); the columns outside
 * it touch the left / right padding. lo <= hi always.
 */
function interiorColumns(g: Conv2dGeometry): [number, number] {
  const lo = Math.min(g.ow, Math.ceil(g.padLeft / g.sw));
  const hi = Math.min(g.ow, Math.floor((g.w - g.kw + g.padLeft) / g.sw) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Patch rows for output positions r0 <= r < r1, where r = (b*oh + oy)*ow + ox:
 *   cols[(r - r0)*q + (ky*kw + kx)*cin + ci] = x[b, oy*sh - padTop + ky, ox*sw - padLeft + kx, ci]
 * with q = kh*kw*cin, and 0 where the window hangs over the padding. In NHWC
 * one kernel row (kw pixels of cin channels) is a contiguous run of x, so the
 * work is: for each stretch of one output row, for each ky, copy one run per
 * output column (the interior columns in a tight loop, the border columns
 * pixel by pixel).
 */
export function im2col(x: Float32Array, g: Conv2dGeometry, r0: number, r1: number, cols: Float32Array): void {
  const { h, w, cin, kh, kw, sh, sw, oh, ow, padTop, padLeft } = g;
  const q = kh * kw * cin;
  const run = kw * cin;
  const step = sw * cin;
  const [lo, hi] = interiorColumns(g);
  for (let r = r0; r < r1;) {
    const ox0 = r % ow;
    const t = (r - ox0) / ow;
    const oy = t % oh;
    const b = (t - oy) / oh;
    const ox1 = Math.min(ow, ox0 + r1 - r);
    const base = (r - r0) * q;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky;
      const d0 = base + ky * run - ox0 * q; // where column ox's run starts: d0 + ox*q
      if (iy < 0 || iy >= h) {
        for (let ox = ox0; ox < ox1; ox++) zero(cols, d0 + ox * q, run);
        continue;
      }
      const row = (b * h + iy) * w;
      const a = Math.max(ox0, lo);
      const e = Math.min(ox1, hi);
      for (let ox = ox0; ox < Math.min(ox1, lo); ox++) copyEdge(x, g, row, ox, cols, d0 + ox * q);
      // The hot loop: run contiguous values per column.
      for (let ox = a, s = (row + a * sw - padLeft) * cin, d = d0 + a * q; ox < e; ox++, s += step, d += q) {
        copyRun(x, s, cols, d, run);
      }
      for (let ox = Math.max(ox0, hi); ox < ox1; ox++) copyEdge(x, g, row, ox, cols, d0 + ox * q);
    }
    r += ox1 - ox0;
  }
}

/** Runs at least this long are copied with `set` (a builtin memcpy; its call and subarray cost ~20 ns). */
const SET_RUN = 48;

/**
 * dst[d + j] = src[s + j] for j < len. V8 does not vectorize typed-array
 * loops; four loads then four stores run about 1.7x faster than one by one.
 */
function copyRun(src: Float32Array, s: number, dst: Float32Array, d: number, len: number): void {
  if (len >= SET_RUN) {
    dst.set(src.subarray(s, s + len), d);
    return;
  }
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const v0 = src[s + j]!, v1 = src[s + j + 1]!, v2 = src[s + j + 2]!, v3 = src[s + j + 3]!;
    dst[d + j] = v0; dst[d + j + 1] = v1; dst[d + j + 2] = v2; dst[d + j + 3] = v3;
  }
  for (; j < len; j++) dst[d + j] = src[s + j]!;
}

/** dst[d + j] += src[s + j] for j < len, unrolled as copyRun. */
function addRun(src: Float32Array, s: number, dst: Float32Array, d: number, len: number): void {
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const v0 = src[s + j]!, v1 = src[s + j + 1]!, v2 = src[s + j + 2]!, v3 = src[s + j + 3]!;
    const u0 = dst[d + j]!, u1 = dst[d + j + 1]!, u2 = dst[d + j + 2]!, u3 = dst[d + j + 3]!;
    dst[d + j] = u0 + v0; dst[d + j + 1] = u1 + v1; dst[d + j + 2] = u2 + v2; dst[d + j + 3] = u3 + v3;
  }
  for (; j < len; j++) dst[d + j] += src[s + j]!;
}

function zero(a: Float32Array, at: number, len: number): void {
  for (let j = 0; j < len; j++) a[at + j] = 0;
}

/** One border column's run: pixel by pixel, zeros over the padding. */
function copyEdge(x: Float32Array, g: Conv2dGeometry, row: number, ox: number, cols: Float32Array, d: number): void {
  const { w, cin, kw, sw, padLeft } = g;
  const x0 = ox * sw - padLeft;
  for (let kx = 0; kx < kw; kx++, d += cin) {
    const ix = x0 + kx;
    if (ix < 0 || ix >= w) {
      zero(cols, d, cin);
    } else {
      const s = (row + ix) * cin;
      copyRun(x, s, cols, d, cin);
    }
  }
}

/**
 * The adjoint of im2col: every patch entry is added back to the pixel it was
 * copied from (overlapping windows accumulate; padding entries are dropped):
 *   gx[b, oy*sh - padTop + ky, ox*sw - padLeft + kx, ci] += cols[(r - r0)*q + (ky*kw + kx)*cin + ci]
 * The same walk as im2col, adding instead of copying.
 */
export function col2im(cols: Float32Array, g: Conv2dGeometry, r0: number, r1: number, gx: Float32Array): void {
  const { h, w, cin, kh, kw, sh, sw, oh, ow, padTop, padLeft } = g;
  const q = kh * kw * cin;
  const run = kw * cin;
  const step = sw * cin;
  const [lo, hi] = interiorColumns(g);
  for (let r = r0; r < r1;) {
    const ox0 = r % ow;
    const t = (r - ox0) / ow;
    const oy = t % oh;
    const b = (t - oy) / oh;
    const ox1 = Math.min(ow, ox0 + r1 - r);
    const base = (r - r0) * q;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky;
      if (iy < 0 || iy >= h) continue;
      const d0 = base + ky * run - ox0 * q;
      const row = (b * h + iy) * w;
      const a = Math.max(ox0, lo);
      const e = Math.min(ox1, hi);
      for (let ox = ox0; ox < Math.min(ox1, lo); ox++) addEdge(cols, d0 + ox * q, g, row, ox, gx);
      for (let ox = a, s = (row + a * sw - padLeft) * cin, d = d0 + a * q; ox < e; ox++, s += step, d += q) {
        addRun(cols, d, gx, s, run);
      }
      for (let ox = Math.max(ox0, hi); ox < ox1; ox++) addEdge(cols, d0 + ox * q, g, row, ox, gx);
    }
    r += ox1 - ox0;
  }
}

/** One border column's run added back, pixel by pixel, padding entries dropped. */
function addEdge(cols: Float32Array, d: number, g: Conv2dGeometry, row: number, ox: number, gx: Float32Array): void {
  const { w, cin, kw, sw, padLeft } = g;
  const x0 = ox * sw - padLeft;
  for (let kx = 0; kx < kw; kx++, d += cin) {
    const ix = x0 + kx;
    if (ix >= 0 && ix < w) {
      const s = (row + ix) * cin;
      addRun(cols, d, gx, s, cin);
    }
  }
}
