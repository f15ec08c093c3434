/**
 * The scalar-JavaScript peak probe: what one core gives plain float64 code
 * in V8 at the moment of the run, so the plain-TypeScript GEMM (gemmJs) can
 * be read as a fraction of it rather than of a nominal figure.
 *
 * Eight independent multiply-add chains on values held in registers, with
 * no loads or stores and no bounds checks. Each chain's add waits ~3 cycles
 * for the previous one; eight chains are enough to keep two multipliers and
 * two adders busy (six were measurably slower, ten no faster), so this is
 * about the best any scalar JS loop can do. gemmJs' micro-kernel does 6
 * multiply-adds per step, plus 5 loads and the loop's bookkeeping
 * (src/tensor/kernels/gemm.ts).
 */

/** 16 flops per step: 8 multiplies + 8 adds. */
export const SCALAR_PEAK_FLOPS_PER_STEP = 16;

/** Keeps the result observable, so the compiler cannot drop the loop. */
let sink = 0;

/** Runs `steps` steps of the eight chains; returns the sum (also kept in `sink`). */
export function scalarPeak(steps: number): number {
  const a = 1 + sink * 1e-300, b = a * 0.5, c = a * 0.25, d = a * 0.125;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (let i = 0; i < steps; i++) {
    s0 += a * b; s1 += a * c; s2 += b * c; s3 += a * a;
    s4 += b * b; s5 += c * c; s6 += a * d; s7 += b * d;
  }
  sink = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
  return sink;
}
