/**
 * Layer and group normalization, step by step: the reference kernels.
 * x is viewed as [N, S, G, K] (row-major): each normalization group is one
 * (n, g) pair, over its m = S*K values; the affine parameters are per
 * channel ch = g*K + k.
 *
 *   GroupNorm, NHWC [N,H,W,C] with G groups:  S = H*W, K = C/G
 *   InstanceNorm (G = C):                      S = H*W, K = 1
 *   LayerNorm over the trailing axes (size D): S = 1, G = 1, K = D, N = the rest
 *
 * Per group, over its m values (the same algebra as batch norm's, see
 * docs/batch-norm.md, with the group in place of the channel):
 *
 *   mean   = (1/m) sum x                 var = (1/m) sum (x - mean)^2   (biased)
 *   invStd = 1 / sqrt(var + epsilon)     xHat = (x - mean) * invStd
 *   y      = gamma[ch] * xHat + beta[ch]
 *
 *   gBeta[ch] = sum over n, s of gy      gGamma[ch] = sum over n, s of gy * xHat
 *   gxHat  = gy * gamma[ch]
 *   gx     = invStd/m * (m*gxHat - sum(gxHat) - xHat*sum(gxHat*xHat))   (sums over the group)
 *
 * These loops are the oracle in the tests; the op runs group-norm-fast.ts,
 * the same loops without callbacks, equal to the bit.
 *
 * Everything runs in float64 (sums, mean, invStd, xHat; only y, gx and the
 * parameter gradients are rounded to float32); the variance is two-pass. NaN in a
 * group makes that group's outputs NaN; nothing turns it into 0.
 */

/** The [N, S, G, K] view of a normalization: groups are (n, g), reduced over (s, k). */
export interface GroupLayout {
  n: number;
  s: number;
  g: number;
  k: number;
}

/** Per-group mean and invStd (float64, length N*G, index n*G + g) and the output y. */
export interface GroupNormForward {
  y: Float32Array;
  mean: Float64Array;
  invStd: Float64Array;
}

/** The gradients of a group-norm backward; gx is null when not asked for. */
export interface GroupNormGrads {
  gx: Float32Array | null;
  gGamma: Float32Array;
  gBeta: Float32Array;
}

/** Calls visit(i, ch) for every element i of group (ni, gi), ch its channel. */
function forEachInGroup(l: GroupLayout, ni: number, gi: number, visit: (i: number, ch: number) => void): void {
  for (let si = 0; si < l.s; si++) {
    const base = ((ni * l.s + si) * l.g + gi) * l.k;
    for (let ki = 0; ki < l.k; ki++) visit(base + ki, gi * l.k + ki);
  }
}

/** Forward: statistics per (n, g), then y = gamma * xHat + beta (gamma/beta null mean 1/0). */
export function groupNormForward(
  x: Float32Array, l: GroupLayout, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number,
): GroupNormForward {
  const m = l.s * l.k;
  const y = new Float32Array(x.length);
  const mean = new Float64Array(l.n * l.g);
  const invStd = new Float64Array(l.n * l.g);
  for (let ni = 0; ni < l.n; ni++) {
    for (let gi = 0; gi < l.g; gi++) {
      let sum = 0;
      forEachInGroup(l, ni, gi, (i) => (sum += x[i]!));
      const mu = sum / m;
      let squares = 0;
      forEachInGroup(l, ni, gi, (i) => {
        const d = x[i]! - mu;
        squares += d * d;
      });
      const s = 1 / Math.sqrt(squares / m + epsilon);
      mean[ni * l.g + gi] = mu;
      invStd[ni * l.g + gi] = s;
      forEachInGroup(l, ni, gi, (i, ch) => {
        const h = (x[i]! - mu) * s;
        y[i] = (gamma ? gamma[ch]! : 1) * h + (beta ? beta[ch]! : 0);
      });
    }
  }
  return { y, mean, invStd };
}

/** Backward: gGamma, gBeta per channel and (if `needInput`) the closed-form gx per group. */
export function groupNormBackward(
  x: Float32Array, gy: Float32Array, l: GroupLayout, mean: Float64Array, invStd: Float64Array,
  gamma: Float32Array | null, needInput: boolean,
): GroupNormGrads {
  const m = l.s * l.k;
  const channels = l.g * l.k;
  const gGamma = new Float64Array(channels);
  const gBeta = new Float64Array(channels);
  const gx = needInput ? new Float32Array(x.length) : null;
  for (let ni = 0; ni < l.n; ni++) {
    for (let gi = 0; gi < l.g; gi++) {
      const mu = mean[ni * l.g + gi]!;
      const s = invStd[ni * l.g + gi]!;
      let sumG = 0; // sum(gxHat)
      let sumGH = 0; // sum(gxHat * xHat)
      forEachInGroup(l, ni, gi, (i, ch) => {
        const h = (x[i]! - mu) * s;
        const g = gy[i]!;
        gBeta[ch]! += g;
        gGamma[ch]! += g * h;
        const gh = g * (gamma ? gamma[ch]! : 1);
        sumG += gh;
        sumGH += gh * h;
      });
      if (!gx) continue;
      // gx = invStd/m * (m*gxHat - sum(gxHat) - xHat*sum(gxHat*xHat))
      forEachInGroup(l, ni, gi, (i, ch) => {
        const h = (x[i]! - mu) * s;
        const gh = gy[i]! * (gamma ? gamma[ch]! : 1);
        gx[i] = (s / m) * (m * gh - sumG - h * sumGH);
      });
    }
  }
  return { gx, gGamma: Float32Array.from(gGamma), gBeta: Float32Array.from(gBeta) };
}
