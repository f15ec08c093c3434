/**
 * Layer/group normalization without the reference's per-element callbacks:
 * the same loops over the [N, S, G, K] view written out, with every
 * floating-point operation in the same order, so the results equal
 * group-norm-reference.ts bit for bit (tested on awkward shapes in
 * test/tensor/kernels/group-norm.test.ts). The math is in the reference.
 */
import type { GroupLayout, GroupNormForward, GroupNormGrads } from './group-norm-reference.js';

/** groupNormForward of the reference, same floats. */
export function groupNormForward(
  x: Float32Array, l: GroupLayout, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number,
): GroupNormForward {
  const { n, s: S, g: G, k: K } = l;
  const m = S * K;
  const y = new Float32Array(x.length);
  const mean = new Float64Array(n * G);
  const invStd = new Float64Array(n * G);
  for (let ni = 0; ni < n; ni++) {
    for (let gi = 0; gi < G; gi++) {
      let sum = 0;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        for (let ki = 0; ki < K; ki++) sum += x[base + ki]!;
      }
      const mu = sum / m;
      let squares = 0;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        for (let ki = 0; ki < K; ki++) {
          const d = x[base + ki]! - mu;
          squares += d * d;
        }
      }
      const s = 1 / Math.sqrt(squares / m + epsilon);
      mean[ni * G + gi] = mu;
      invStd[ni * G + gi] = s;
      const c0 = gi * K;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        for (let ki = 0; ki < K; ki++) {
          const h = (x[base + ki]! - mu) * s;
          y[base + ki] = (gamma ? gamma[c0 + ki]! : 1) * h + (beta ? beta[c0 + ki]! : 0);
        }
      }
    }
  }
  return { y, mean, invStd };
}

/** groupNormBackward of the reference, same floats. */
export function groupNormBackward(
  x: Float32Array, gy: Float32Array, l: GroupLayout, mean: Float64Array, invStd: Float64Array,
  gamma: Float32Array | null, needInput: boolean,
): GroupNormGrads {
  const { n, s: S, g: G, k: K } = l;
  const m = S * K;
  const gGamma = new Float64Array(G * K);
  const gBeta = new Float64Array(G * K);
  const gx = needInput ? new Float32Array(x.length) : null;
  for (let ni = 0; ni < n; ni++) {
    for (let gi = 0; gi < G; gi++) {
      const mu = mean[ni * G + gi]!;
      const s = invStd[ni * G + gi]!;
      const c0 = gi * K;
      let sumG = 0;
      let sumGH = 0;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        for (let ki = 0; ki < K; ki++) {
          const h = (x[base + ki]! - mu) * s;
          const g = gy[base + ki]!;
          gBeta[c0 + ki]! += g;
          gGamma[c0 + ki]! += g * h;
          const gh = g * (gamma ? gamma[c0 + ki]! : 1);
          sumG += gh;
          sumGH += gh * h;
        }
      }
      if (!gx) continue;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        for (let ki = 0; ki < K; ki++) {
          const h = (x[base + ki]! - mu) * s;
          const gh = gy[base + ki]! * (gamma ? gamma[c0 + ki]! : 1);
          gx[base + ki] = (s / m) * (m * gh - sumG - h * sumGH);
        }
      }
    }
  }
  return { gx, gGamma: Float32Array.from(gGamma), gBeta: Float32Array.from(gBeta) };
}
