/**
 * Dilated and grouped 2-D convolution (TensorFlow's conv2d with
 * `dilations` and a kernel of cin / groups input channels): x NHWC
 * [n,h,w,cin], kernel HWIO [kh,kw,cin/G,cout], y [n,oh,ow,cout]. Group gi
 * sees input channels [gi*ci, (gi+1)*ci) and makes output channels
 * [gi*co, (gi+1)*co), ci = cin/G, co = cout/G (depthwise when G = cin):
 *
 *   y[b,oy,ox,gi*co + o] = sum_{ky,kx,c < ci} x[b, oy*sh - padTop + ky*dh, ox*sw - padLeft + kx*dw, gi*ci + c]
 *                                            * K[ky, kx, c, gi*co + o]
 *
 * Per group, as matrices (cols_g: the dilated patches of group gi's
 * channels, [rows, kh*kw*ci]; K_g: K's columns of group gi, [kh*kw*ci, co]):
 *   y_g = cols_g · K_g      gK_g = cols_g^T · gy_g      gx_g = col2im(gy_g · K_g^T)
 *
 * The reference and only kernel for dilation != 1 or groups != 1: the
 * WebAssembly convolutions (wasm/conv2d-wasm.ts) know neither, so this runs
 * in TypeScript on both backends (gemm still picks its backend). The
 * undilated, ungrouped convolution keeps its own path (conv2d.ts). A
 * depthwise convolution is G small GEMMs, correct but not fast.
 */
import { formatShape, type Shape } from '../shape.js';
import { gemm } from './gemm.js';
import { window2d, type Padding, type Window2d } from './window.js';

/** Everything the kernels need: the input and kernel sizes, the groups and the window (with dilation). */
export interface GroupedConvGeometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly cout: number;
  readonly groups: number;
  readonly win: Window2d;
}

/**
 * Validates x [n,h,w,cin], kernel [kh,kw,cin/groups,cout], groups (cin and
 * cout divisible by it), strides, dilations and padding. Errors name `op` and the shapes.
 */
export function groupedConvGeometry(
  inputShape: Shape, kernelShape: Shape, strides: number | readonly [number, number],
  padding: Padding, dilations: number | readonly [number, number], groups: number, op = 'conv2d',
): GroupedConvGeometry {
  if (inputShape.length !== 4) throw new Error(`${op}: input ${formatShape(inputShape)} must have rank 4 [batch, height, width, channels], got rank ${inputShape.length}`);
  if (kernelShape.length !== 4) throw new Error(`${op}: kernel ${formatShape(kernelShape)} must have rank 4 [height, width, inChannels / groups, outChannels], got rank ${kernelShape.length}`);
  const [n, h, w, cin] = inputShape as [number, number, number, number];
  const [kh, kw, kin, cout] = kernelShape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${String(groups)}`);
  if (cin % groups !== 0) throw new Error(`${op}: input ${formatShape(inputShape)} has ${cin} channels, not divisible by groups ${groups}`);
  if (kin * groups !== cin) {
    const per = groups === 1 ? '' : ` (${cin} channels / groups ${groups})`;
    throw new Error(`${op}: input ${formatShape(inputShape)} has ${cin} channels but kernel ${formatShape(kernelShape)} expects ${kin * groups}; its third axis must be ${cin / groups}${per}`);
  }
  if (cout % groups !== 0) throw new Error(`${op}: kernel ${formatShape(kernelShape)} has ${cout} output channels, not divisible by groups ${groups}`);
  const win = window2d({ op, size: [h, w], window: [kh, kw], strides, dilations, padding, inputShape, windowShape: kernelShape, windowName: 'kernel' });
  return { n, h, w, cin, cout, groups, win };
}

const CHUNK_FLOATS = 1 << 20;

/** Kernel options: `chunkRows` output positions per patch matrix (default: as many as fit in 2^20 floats; tests use small ones). */
export interface GroupedConvOptions {
  chunkRows?: number;
}

/** Output positions per chunk, so a chunk's patch matrix stays about 4 MB. */
function chunkOf(g: GroupedConvGeometry, q: number, opts: GroupedConvOptions): number {
  const chunk = opts.chunkRows ?? Math.floor(CHUNK_FLOATS / Math.max(q, 1));
  return Math.max(1, Math.min(chunk, g.n * g.win.oh * g.win.ow));
}

/**
 * cols[(r - r0)*q + (ky*kw + kx)*ci + c] = x[b, oy*sh - padTop + ky*dh, ox*sw - padLeft + kx*dw, gi*ci + c]
 * for output positions r0 <= r < r1 (r = (b*oh + oy)*ow + ox), 0 over the
 * padding; with `add` the adjoint: x[...] += cols[...] (padding dropped).
 */
function patches(x: Float32Array, g: GroupedConvGeometry, gi: number, r0: number, r1: number, cols: Float32Array, add: boolean): void {
  const { h, w, cin, groups } = g;
  const { kh, kw, sh, sw, dh, dw, oh, ow, padTop, padLeft } = g.win;
  const ci = cin / groups;
  let d = 0;
  for (let r = r0; r < r1; r++) {
    const ox = r % ow;
    const oy = Math.floor(r / ow) % oh;
    const b = Math.floor(r / (ow * oh));
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky * dh;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * sw - padLeft + kx * dw;
        const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
        const s = ((b * h + iy) * w + ix) * cin + gi * ci;
        for (let c = 0; c < ci; c++, d++) {
          if (add) {
            if (inside) x[s + c] += cols[d]!;
          } else {
            cols[d] = inside ? x[s + c]! : 0;
          }
        }
      }
    }
  }
}

/** Columns [gi*co, (gi+1)*co) of a [rows, cout] matrix, as a contiguous [rows, co] one (or back, with `put`). */
function columns(m: Float32Array, rows: number, cout: number, gi: number, co: number, part: Float32Array, put: boolean): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < co; o++) {
      if (put) m[r * cout + gi * co + o] = part[r * co + o]!;
      else part[r * co + o] = m[r * cout + gi * co + o]!;
    }
  }
}

/** Sizes per group: patch length q = kh*kw*ci and co output channels; all output positions. */
function sizes(g: GroupedConvGeometry): { q: number; co: number; rows: number } {
  return { q: g.win.kh * g.win.kw * (g.cin / g.groups), co: g.cout / g.groups, rows: g.n * g.win.oh * g.win.ow };
}

/** y_g = cols_g · K_g for every group: y [n,oh,ow,cout]. */
export function groupedConvForward(x: Float32Array, k: Float32Array, g: GroupedConvGeometry, opts: GroupedConvOptions = {}): Float32Array {
  const { q, co, rows } = sizes(g);
  const y = new Float32Array(rows * g.cout);
  const kg = new Float32Array(q * co);
  const chunk = chunkOf(g, q, opts);
  const cols = new Float32Array(chunk * q);
  const yg = new Float32Array(chunk * co);
  for (let gi = 0; gi < g.groups; gi++) {
    columns(k, q, g.cout, gi, co, kg, false);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const r1 = Math.min(rows, r0 + chunk);
      patches(x, g, gi, r0, r1, cols, false);
      gemm(cols, kg, yg, r1 - r0, q, co);
      columns(y.subarray(r0 * g.cout), r1 - r0, g.cout, gi, co, yg, true);
    }
  }
  return y;
}

/** gx_g = col2im(gy_g · K_g^T) for every group: dL/dx [n,h,w,cin]. */
export function groupedConvBackwardInput(gy: Float32Array, k: Float32Array, g: GroupedConvGeometry, opts: GroupedConvOptions = {}): Float32Array {
  const { q, co, rows } = sizes(g);
  const gx = new Float32Array(g.n * g.h * g.w * g.cin);
  const kg = new Float32Array(q * co);
  const chunk = chunkOf(g, q, opts);
  const gcols = new Float32Array(chunk * q);
  const gyg = new Float32Array(chunk * co);
  for (let gi = 0; gi < g.groups; gi++) {
    columns(k, q, g.cout, gi, co, kg, false);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const r1 = Math.min(rows, r0 + chunk);
      columns(gy.subarray(r0 * g.cout), r1 - r0, g.cout, gi, co, gyg, false);
      gemm(gyg, kg, gcols, r1 - r0, co, q, { transB: true });
      patches(gx, g, gi, r0, r1, gcols, true);
    }
  }
  return gx;
}

/** gK_g = sum over chunks of cols_g^T · gy_g: dL/dkernel [kh,kw,cin/G,cout]. */
export function groupedConvBackwardKernel(x: Float32Array, gy: Float32Array, g: GroupedConvGeometry, opts: GroupedConvOptions = {}): Float32Array {
  const { q, co, rows } = sizes(g);
  const gk = new Float32Array(q * g.cout);
  const gkg = new Float32Array(q * co);
  const chunk = chunkOf(g, q, opts);
  const cols = new Float32Array(chunk * q);
  const gyg = new Float32Array(chunk * co);
  for (let gi = 0; gi < g.groups; gi++) {
    gkg.fill(0);
    for (let r0 = 0; r0 < rows; r0 += chunk) {
      const r1 = Math.min(rows, r0 + chunk);
      patches(x, g, gi, r0, r1, cols, false);
      columns(gy.subarray(r0 * g.cout), r1 - r0, g.cout, gi, co, gyg, false);
      gemm(cols, gyg, gkg, q, r1 - r0, co, { transA: true, accumulate: true });
    }
    columns(gk, q, g.cout, gi, co, gkg, true);
  }
  return gk;
}
