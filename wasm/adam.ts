/**
 * Adam's update over n float32 values, in float64 as the TypeScript reference
 * (src/optim/adam.ts, adamUpdate) computes it, operation for operation:
 *   mi = b1 m + (1 - b1) g;  vi = b2 v + ((1 - b2) g) g;  m = f32(mi);  v = f32(vi)
 *   w  = f32(shrink w - ((lr mi) c1) / (sqrt(vi c2) + eps))
 * Two values per f64x2 operation; each IEEE operation rounds as V8's doubles do.
 */
export function adamRows(w: usize, g: usize, m: usize, v: usize, n: i32, lr: f64, b1: f64, b2: f64, eps: f64, shrink: f64, c1: f64, c2: f64): void {
  const a1 = 1 - b1, a2 = 1 - b2;
  const B1 = f64x2.splat(b1), B2 = f64x2.splat(b2), A1 = f64x2.splat(a1), A2 = f64x2.splat(a2);
  const LR = f64x2.splat(lr), C1 = f64x2.splat(c1), C2 = f64x2.splat(c2), EPS = f64x2.splat(eps), S = f64x2.splat(shrink);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 4;
    const gi = f64x2.promote_low_f32x4(v128.load64_zero(g + o));
    const mi = f64x2.add(f64x2.mul(B1, f64x2.promote_low_f32x4(v128.load64_zero(m + o))), f64x2.mul(A1, gi));
    const vi = f64x2.add(f64x2.mul(B2, f64x2.promote_low_f32x4(v128.load64_zero(v + o))), f64x2.mul(f64x2.mul(A2, gi), gi));
    v128.store64_lane(m + o, f32x4.demote_f64x2_zero(mi), 0);
    v128.store64_lane(v + o, f32x4.demote_f64x2_zero(vi), 0);
    const step = f64x2.div(f64x2.mul(f64x2.mul(LR, mi), C1), f64x2.add(f64x2.sqrt(f64x2.mul(vi, C2)), EPS));
    const wi = f64x2.sub(f64x2.mul(S, f64x2.promote_low_f32x4(v128.load64_zero(w + o))), step);
    v128.store64_lane(w + o, f32x4.demote_f64x2_zero(wi), 0);
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const gi = <f64>load<f32>(g + o);
    const mi = b1 * <f64>load<f32>(m + o) + a1 * gi;
    const vi = b2 * <f64>load<f32>(v + o) + a2 * gi * gi;
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    store<f32>(w + o, <f32>(shrink * <f64>load<f32>(w + o) - (lr * mi * c1) / (Math.sqrt(vi * c2) + eps)));
  }
}
