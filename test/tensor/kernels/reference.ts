/**
 * Naive references for the gemm and conv2d tests: the plain loops straight
 * from the definitions, in float64, sharing no code with the kernels. Not a
 * test file itself.
 */
import { Random } from '../../../src/tensor/random.js';

/** n uniform values in [-1, 1) from a seeded generator. */
export function rand(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * rng.next() - 1;
  return out;
}

/** C[i,j] = sum_p op(A)[i,p] op(B)[p,j], with A stored [m,k] or [k,m] (transA), B stored [k,n] or [n,k] (transB). */
export function naiveGemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i]! : a[i * k + p]!) * (transB ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

export interface RefConv {
  n: number; h: number; w: number; cin: number;
  kh: number; kw: number; cout: number;
  sh: number; sw: number; padding: 'same' | 'valid';
}

/** TensorFlow's rule, written out again: [out, padBefore] for one axis. */
export function refAxis(size: number, k: number, s: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [Math.ceil((size - k + 1) / s), 0];
  const out = Math.ceil(size / s);
  return [out, Math.floor(Math.max((out - 1) * s + k - size, 0) / 2)];
}

/**
 * The direct 7-loop convolution and, by scattering the same products, its
 * gradients for a given gy:
 *   y[b,oy,ox,co] = sum_{ky,kx,ci} x[b,iy,ix,ci] K[ky,kx,ci,co],  iy = oy*sh - pt + ky, ix = ox*sw - pl + kx
 *   gx[b,iy,ix,ci] += gy[b,oy,ox,co] K[ky,kx,ci,co]
 *   gK[ky,kx,ci,co] += gy[b,oy,ox,co] x[b,iy,ix,ci]
 */
export function naiveConv(x: Float32Array, K: Float32Array, c: RefConv, gy?: Float32Array) {
  const [oh, pt] = refAxis(c.h, c.kh, c.sh, c.padding);
  const [ow, pl] = refAxis(c.w, c.kw, c.sw, c.padding);
  const y = new Float64Array(c.n * oh * ow * c.cout);
  const gx = new Float64Array(x.length);
  const gk = new Float64Array(K.length);
  for (let b = 0; b < c.n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let co = 0; co < c.cout; co++) {
          const yi = ((b * oh + oy) * ow + ox) * c.cout + co;
          let s = 0;
          for (let ky = 0; ky < c.kh; ky++) {
            for (let kx = 0; kx < c.kw; kx++) {
              for (let ci = 0; ci < c.cin; ci++) {
                const iy = oy * c.sh - pt + ky;
                const ix = ox * c.sw - pl + kx;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                const xi = ((b * c.h + iy) * c.w + ix) * c.cin + ci;
                const ki = ((ky * c.kw + kx) * c.cin + ci) * c.cout + co;
                s += x[xi]! * K[ki]!;
                if (gy) {
                  gx[xi] += gy[yi]! * K[ki]!;
                  gk[ki] += gy[yi]! * x[xi]!;
                }
              }
            }
          }
          y[yi] = s;
        }
      }
    }
  }
  return { y, gx, gk, shape: [c.n, oh, ow, c.cout] };
}

