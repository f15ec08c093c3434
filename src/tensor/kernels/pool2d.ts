/**
 * 2-D max and average pooling over NHWC x [n,h,w,c], TensorFlow's geometry
 * (window2d: SAME/VALID, the odd pad pixel at the bottom/right). Window
 * (oy, ox) covers input rows iy = oy*sh - padTop + ky, ky < kh, and columns
 * ix = ox*sw - padLeft + kx, kx < kw; V(oy, ox) is the set of those cells
 * inside the image (never empty: SAME pads less than a window).
 *
 *   max:  y[b,oy,ox,ch] = max_{(iy,ix) in V} x[b,iy,ix,ch]
 *         gx[argmax] += gy                (one cell per window gets it all)
 *   avg:  y[b,oy,ox,ch] = (1/|V|) sum_{(iy,ix) in V} x[b,iy,ix,ch]
 *         gx[b,iy,ix,ch] += gy[b,oy,ox,ch] / |V|   for every (iy,ix) in V
 *
 * Padding is not a value: the max ignores it (as a -Infinity pad would) and
 * the average divides by the valid cells only, as TensorFlow does (PyTorch's
 * count_include_pad=False).
 *
 * Ties: the argmax is the first maximum in window order (row by row, left to
 * right), as TensorFlow and PyTorch. NaN propagates: a window holding a NaN
 * gives NaN, and its argmax is the first NaN, which receives the gradient.
 * The only pooling kernel, in TypeScript on both backends (backend.ts):
 * pooling is a small share of a CNN's time next to its convolutions.
 */
import type { Window2d } from './window.js';

/** The NHWC input's sizes that a pooling kernel needs besides the window. */
export interface PoolInput {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

/** y and, per output, the flat index into x of the cell that won (what the backward needs). */
export interface MaxPoolResult {
  readonly y: Float32Array;
  readonly argmax: Int32Array;
}

/** The valid rows [y0, y1) or columns of window o along one axis. */
function span(o: number, stride: number, padBefore: number, k: number, size: number): [number, number] {
  const start = o * stride - padBefore;
  return [Math.max(start, 0), Math.min(start + k, size)];
}

/** Max pooling forward: y [n,oh,ow,c] and the argmax of every output. */
export function maxPool2dForward(x: Float32Array, s: PoolInput, g: Window2d): MaxPoolResult {
  const { n, h, w, c } = s;
  const y = new Float32Array(n * g.oh * g.ow * c);
  const argmax = new Int32Array(y.length);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const [y0, y1] = span(oy, g.sh, g.padTop, g.kh, h);
      for (let ox = 0; ox < g.ow; ox++) {
        const [x0, x1] = span(ox, g.sw, g.padLeft, g.kw, w);
        for (let ch = 0; ch < c; ch++, o++) {
          let best = ((b * h + y0) * w + x0) * c + ch;
          let m = x[best]!;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const i = ((b * h + iy) * w + ix) * c + ch;
              const v = x[i]!;
              // the first strict maximum; a NaN wins over any number and stays
              if (v > m || (v !== v && m === m)) {
                m = v;
                best = i;
              }
            }
          }
          y[o] = m;
          argmax[o] = best;
        }
      }
    }
  }
  return { y, argmax };
}

/** Max pooling backward: gx (of `size` elements) with gx[argmax[o]] += gy[o]. */
export function maxPool2dBackward(gy: Float32Array, argmax: Int32Array, size: number): Float32Array {
  const gx = new Float32Array(size);
  for (let o = 0; o < gy.length; o++) gx[argmax[o]!] += gy[o]!;
  return gx;
}

/** Average pooling forward over the valid cells: y [n,oh,ow,c]. */
export function avgPool2dForward(x: Float32Array, s: PoolInput, g: Window2d): Float32Array {
  const { n, h, w, c } = s;
  const y = new Float32Array(n * g.oh * g.ow * c);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const [y0, y1] = span(oy, g.sh, g.padTop, g.kh, h);
      for (let ox = 0; ox < g.ow; ox++) {
        const [x0, x1] = span(ox, g.sw, g.padLeft, g.kw, w);
        const count = (y1 - y0) * (x1 - x0);
        for (let ch = 0; ch < c; ch++, o++) {
          let acc = 0;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) acc += x[((b * h + iy) * w + ix) * c + ch]!;
          }
          y[o] = acc / count;
        }
      }
    }
  }
  return y;
}

/** Average pooling backward: every valid cell of a window gets gy / |V|. */
export function avgPool2dBackward(gy: Float32Array, s: PoolInput, g: Window2d): Float32Array {
  const { n, h, w, c } = s;
  const gx = new Float32Array(n * h * w * c);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const [y0, y1] = span(oy, g.sh, g.padTop, g.kh, h);
      for (let ox = 0; ox < g.ow; ox++) {
        const [x0, x1] = span(ox, g.sw, g.padLeft, g.kw, w);
        const count = (y1 - y0) * (x1 - x0);
        for (let ch = 0; ch < c; ch++, o++) {
          const share = gy[o]! / count;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) gx[((b * h + iy) * w + ix) * c + ch] += share;
          }
        }
      }
    }
  }
  return gx;
}
