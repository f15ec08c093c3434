/**
 * Layer/group normalization's forward and backward for WebAssembly
 * (AssemblyScript; built into the same module as the GEMM, see
 * wasm/kernels.ts). The math is src/tensor/kernels/group-norm-reference.ts;
 * these loops compute the same floats as group-norm-fast.ts, bit for bit:
 *
 *   gnForward   per group (n, g) of examples [n0, n1): mean, two-pass
 *               variance, invStd; y = gamma_c * xHat + beta_c
 *   gnBackward  per group: gBeta_c += gy, gGamma_c += gy * xHat,
 *               sumG += gxHat, sumGH += gxHat * xHat (gxHat = gy * gamma_c);
 *               then gx = (invStd/m) * (m*gxHat - sumG - xHat*sumGH)
 *
 * x, gy, y, gx are float32 in the [N, S, G, K] view (group (n, g), position
 * s, channel g*K + k at ((n*S + s)*G + g)*K + k); gamma and beta float32[G*K]
 * (the host passes ones and zeros for none: 1*h and h + 0 are what the
 * reference computes); mean, invStd, gGamma, gBeta float64. Pointers are
 * byte offsets.
 *
 * Why the same bits: the arithmetic is float64 as in the TypeScript (f32
 * promoted exactly, the same f64 operations in the same order, one rounding
 * to f32 at the end, no fused multiply-add). The group sums are one chain,
 * element after element in the reference's order; only work that is
 * independent per element (y, gx, the terms of the sums) or per channel
 * (gGamma, gBeta, each still summed over n and s in order) runs two float64
 * lanes at a time.
 */

/** The float32 at p + 4i, as f64. */
@inline function f32At(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

/** Float32 lanes 0 and 1 of v as a float64x2. */
@inline function low(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

/** Float32 lanes 2 and 3 of v as a float64x2. */
@inline function high(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/** Two float64x2 rounded to float32 and joined: [a0, a1, b0, b1]. */
@inline function demote(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

/** acc + v0 + v1, in that order (two elements of a chain). */
@inline function chain2(acc: f64, v: v128): f64 {
  return acc + f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Forward of examples [n0, n1): mean, invStd (float64, index n*G + g) and y. */
export function gnForward(
  x: usize, n0: i32, n1: i32, S: i32, G: i32, K: i32, gamma: usize, beta: usize, epsilon: f64,
  y: usize, mean: usize, invStd: usize,
): void {
  const m = <f64>(S * K);
  const quads = K & ~3;
  for (let ni = n0; ni < n1; ni++) {
    for (let gi = 0; gi < G; gi++) {
      let sum: f64 = 0;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        for (let ki = 0; ki < K; ki++) sum += f32At(x, base + ki);
      }
      const mu = sum / m;
      let squares: f64 = 0;
      const mu2 = f64x2.splat(mu);
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        let ki = 0;
        for (; ki < quads; ki += 4) {
          const v = v128.load(x + (<usize>(base + ki) << 2));
          const d01 = f64x2.sub(low(v), mu2), d23 = f64x2.sub(high(v), mu2);
          squares = chain2(chain2(squares, f64x2.mul(d01, d01)), f64x2.mul(d23, d23));
        }
        for (; ki < K; ki++) {
          const d = f32At(x, base + ki) - mu;
          squares += d * d;
        }
      }
      const s = 1 / Math.sqrt(squares / m + epsilon);
      const at = <usize>(ni * G + gi) << 3;
      store<f64>(mean + at, mu);
      store<f64>(invStd + at, s);
      const s2 = f64x2.splat(s);
      const c0 = gi * K;
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        let ki = 0;
        for (; ki < quads; ki += 4) {
          const v = v128.load(x + (<usize>(base + ki) << 2));
          const a = v128.load(gamma + (<usize>(c0 + ki) << 2)), b = v128.load(beta + (<usize>(c0 + ki) << 2));
          const h01 = f64x2.mul(f64x2.sub(low(v), mu2), s2), h23 = f64x2.mul(f64x2.sub(high(v), mu2), s2);
          const y01 = f64x2.add(f64x2.mul(low(a), h01), low(b)), y23 = f64x2.add(f64x2.mul(high(a), h23), high(b));
          v128.store(y + (<usize>(base + ki) << 2), demote(y01, y23));
        }
        for (; ki < K; ki++) {
          const h = (f32At(x, base + ki) - mu) * s;
          store<f32>(y + (<usize>(base + ki) << 2), <f32>(f32At(gamma, c0 + ki) * h + f32At(beta, c0 + ki)));
        }
      }
    }
  }
}

/**
 * Backward of examples [n0, n1): adds into gGamma and gBeta (float64[G*K],
 * zeroed by the host, examples in order), and writes gx when `gx` is not 0.
 */
export function gnBackward(
  x: usize, gy: usize, n0: i32, n1: i32, S: i32, G: i32, K: i32, gamma: usize, mean: usize, invStd: usize,
  gGamma: usize, gBeta: usize, gx: usize,
): void {
  const mi = S * K;
  const m = <f64>mi;
  const quads = K & ~3;
  for (let ni = n0; ni < n1; ni++) {
    for (let gi = 0; gi < G; gi++) {
      const at = <usize>(ni * G + gi) << 3;
      const mu = load<f64>(mean + at), s = load<f64>(invStd + at);
      const mu2 = f64x2.splat(mu), s2 = f64x2.splat(s);
      const c0 = gi * K;
      let sumG: f64 = 0, sumGH: f64 = 0;
      if (K == 1) {
        // one channel (instance norm): its gBeta and gGamma sums held in
        // locals, the same additions in the same order as through memory
        const pc = <usize>gi << 3;
        const a = f32At(gamma, gi);
        let gb = load<f64>(gBeta + pc), gg = load<f64>(gGamma + pc);
        for (let si = 0; si < S; si++) {
          const i = (ni * S + si) * G + gi;
          const h = (f32At(x, i) - mu) * s;
          const g = f32At(gy, i);
          gb += g;
          gg += g * h;
          const gh = g * a;
          sumG += gh;
          sumGH += gh * h;
        }
        store<f64>(gBeta + pc, gb);
        store<f64>(gGamma + pc, gg);
      } else for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        let ki = 0;
        for (; ki < quads; ki += 4) {
          const v = v128.load(x + (<usize>(base + ki) << 2));
          const g = v128.load(gy + (<usize>(base + ki) << 2));
          const a = v128.load(gamma + (<usize>(c0 + ki) << 2));
          const pc = <usize>(c0 + ki) << 3;
          const h01 = f64x2.mul(f64x2.sub(low(v), mu2), s2), h23 = f64x2.mul(f64x2.sub(high(v), mu2), s2);
          const g01 = low(g), g23 = high(g);
          v128.store(gBeta + pc, f64x2.add(v128.load(gBeta + pc), g01));
          v128.store(gBeta + pc, f64x2.add(v128.load(gBeta + pc, 16), g23), 16);
          v128.store(gGamma + pc, f64x2.add(v128.load(gGamma + pc), f64x2.mul(g01, h01)));
          v128.store(gGamma + pc, f64x2.add(v128.load(gGamma + pc, 16), f64x2.mul(g23, h23)), 16);
          const gh01 = f64x2.mul(g01, low(a)), gh23 = f64x2.mul(g23, high(a));
          const p01 = f64x2.mul(gh01, h01), p23 = f64x2.mul(gh23, h23);
          // element order: sumG and sumGH each take lane 0, 1, 2, 3 in turn
          sumG = chain2(chain2(sumG, gh01), gh23);
          sumGH = chain2(chain2(sumGH, p01), p23);
        }
        for (; ki < K; ki++) {
          const h = (f32At(x, base + ki) - mu) * s;
          const g = f32At(gy, base + ki);
          const pc = <usize>(c0 + ki) << 3;
          store<f64>(gBeta + pc, load<f64>(gBeta + pc) + g);
          store<f64>(gGamma + pc, load<f64>(gGamma + pc) + g * h);
          const gh = g * f32At(gamma, c0 + ki);
          sumG += gh;
          sumGH += gh * h;
        }
      }
      if (gx == 0) continue;
      const k = s / m;
      const k2 = f64x2.splat(k), m2 = f64x2.splat(m), sg2 = f64x2.splat(sumG), sgh2 = f64x2.splat(sumGH);
      for (let si = 0; si < S; si++) {
        const base = ((ni * S + si) * G + gi) * K;
        let ki = 0;
        for (; ki < quads; ki += 4) {
          const v = v128.load(x + (<usize>(base + ki) << 2));
          const g = v128.load(gy + (<usize>(base + ki) << 2));
          const a = v128.load(gamma + (<usize>(c0 + ki) << 2));
          const h01 = f64x2.mul(f64x2.sub(low(v), mu2), s2), h23 = f64x2.mul(f64x2.sub(high(v), mu2), s2);
          const gh01 = f64x2.mul(low(g), low(a)), gh23 = f64x2.mul(high(g), high(a));
          const r01 = f64x2.mul(k2, f64x2.sub(f64x2.sub(f64x2.mul(m2, gh01), sg2), f64x2.mul(h01, sgh2)));
          const r23 = f64x2.mul(k2, f64x2.sub(f64x2.sub(f64x2.mul(m2, gh23), sg2), f64x2.mul(h23, sgh2)));
          v128.store(gx + (<usize>(base + ki) << 2), demote(r01, r23));
        }
        for (; ki < K; ki++) {
          const h = (f32At(x, base + ki) - mu) * s;
          const gh = f32At(gy, base + ki) * f32At(gamma, c0 + ki);
          store<f32>(gx + (<usize>(base + ki) << 2), <f32>(k * (m * gh - sumG - h * sumGH)));
        }
      }
    }
  }
}
