/**
 * Batch-norm training passes for WebAssembly SIMD128 (AssemblyScript; built
 * into the same module as the GEMM, see wasm/kernels.ts). The math is
 * src/tensor/kernels/batch-norm-reference.ts; these passes compute the same
 * floats as the TypeScript ones in batch-norm-fast.ts and
 * batch-norm-fast-backward.ts, bit for bit:
 *
 *   bnChannelSums   sums_c += sum x            or sum (x - mean_c)^2
 *   bnNormalize     y = (x - mean_c) * scale_c + beta_c      (then max(y, 0))
 *   bnGradientSums  gy = 0 where the fused ReLU cut y (NaN where y is NaN); then
 *                   sumGy_c += sum gy,  sumGyXc_c += sum gy * (x - mean_c)
 *   bnInputGrad     gx = k1_c * gy + k2_c * (x - mean_c) + k0_c
 *
 * x, gy, y, gx are [rows, channels] float32 (channel c of row r at
 * r*channels + c); mean and beta are float32[channels]; scale, k0, k1, k2
 * and the sums are float64[channels]. Pointers are byte offsets.
 *
 * Why the same bits: each SIMD lane holds one channel, and the arithmetic
 * is float64, as in the reference (f32 promoted exactly, f64 ops in the
 * same order, rounded to f32 once at the end). The sums run over the same
 * blocks of rows with one partial per block, each channel in row order.
 * A float32x4 holds four channels; it is split into two float64x2 halves.
 */

/** Floats per block of the sums (16 KB), as SUM_BLOCK in the reference. */
const SUM_BLOCK: i32 = 4096;

/** A block of whole rows of about SUM_BLOCK floats. */
@inline function blockOf(channels: i32): i32 {
  return channels * max(1, SUM_BLOCK / channels);
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

/** The float32 at p, as f64. */
@inline function f32At(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

/** The float64 at p. */
@inline function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

/** sums[c] += the block partial of channel c. */
@inline function addPartials(sums: usize, c: i32, s01: v128, s23: v128): void {
  const p = sums + (<usize>c << 3);
  v128.store(p, f64x2.add(v128.load(p), s01));
  v128.store(p, f64x2.add(v128.load(p, 16), s23), 16);
}

/**
 * sums_c += sum_r x[r, c], or sum_r (x[r, c] - mean_c)^2 when `mean` is
 * not 0. channelSums in the reference.
 */
export function bnChannelSums(x: usize, rows: i32, channels: i32, mean: usize, sums: usize): void {
  const n = rows * channels;
  const block = blockOf(channels);
  const quads = channels & ~3;
  for (let i0 = 0; i0 < n; i0 += block) {
    const i1 = min(n, i0 + block);
    for (let c = 0; c < quads; c += 4) {
      let s01 = f64x2.splat(0), s23 = f64x2.splat(0);
      if (mean == 0) {
        for (let i = i0 + c; i < i1; i += channels) {
          const v = v128.load(x + (<usize>i << 2));
          s01 = f64x2.add(s01, low(v));
          s23 = f64x2.add(s23, high(v));
        }
      } else {
        const m = v128.load(mean + (<usize>c << 2));
        const m01 = low(m), m23 = high(m);
        for (let i = i0 + c; i < i1; i += channels) {
          const v = v128.load(x + (<usize>i << 2));
          const d01 = f64x2.sub(low(v), m01), d23 = f64x2.sub(high(v), m23);
          s01 = f64x2.add(s01, f64x2.mul(d01, d01));
          s23 = f64x2.add(s23, f64x2.mul(d23, d23));
        }
      }
      addPartials(sums, c, s01, s23);
    }
    for (let c = quads; c < channels; c++) {
      const mu = mean == 0 ? 0 : f32At(mean, c);
      let s: f64 = 0;
      for (let i = i0 + c; i < i1; i += channels) {
        if (mean == 0) s += f32At(x, i);
        else {
          const d = f32At(x, i) - mu;
          s += d * d;
        }
      }
      store<f64>(sums + (<usize>c << 3), f64At(sums, c) + s);
    }
  }
}

/** y = (x - mean_c) * scale_c + beta_c rounded to f32; with relu, 0 where that is <= 0 (NaN stays NaN). normalizeTraining in batch-norm-fast.ts. */
export function bnNormalize(x: usize, rows: i32, channels: i32, mean: usize, scale: usize, beta: usize, relu: i32, y: usize): void {
  const n = rows * channels;
  const quads = channels & ~3;
  const zero = f64x2.splat(0);
  for (let c = 0; c < quads; c += 4) {
    const m = v128.load(mean + (<usize>c << 2)), b = v128.load(beta + (<usize>c << 2));
    const m01 = low(m), m23 = high(m), b01 = low(b), b23 = high(b);
    const a01 = v128.load(scale + (<usize>c << 3)), a23 = v128.load(scale + (<usize>c << 3), 16);
    for (let i = c; i < n; i += channels) {
      const v = v128.load(x + (<usize>i << 2));
      let y01 = f64x2.add(f64x2.mul(f64x2.sub(low(v), m01), a01), b01);
      let y23 = f64x2.add(f64x2.mul(f64x2.sub(high(v), m23), a23), b23);
      if (relu) {
        // all-zero bits (+0) where y <= 0; NaN stays NaN (as f64x2.max would
        // keep it, and pmax would not)
        y01 = v128.andnot(y01, f64x2.le(y01, zero));
        y23 = v128.andnot(y23, f64x2.le(y23, zero));
      }
      v128.store(y + (<usize>i << 2), demote(y01, y23));
    }
  }
  for (let c = quads; c < channels; c++) {
    const mu = f32At(mean, c), a = f64At(scale, c), b = f32At(beta, c);
    for (let i = c; i < n; i += channels) {
      const v = (f32At(x, i) - mu) * a + b;
      store<f32>(y + (<usize>i << 2), relu && v <= 0 ? 0 : <f32>v);
    }
  }
}

/**
 * Pass 1 of the training backward, block by block: with relu, gy = 0 (in
 * place) where f32((x - mean_c) * scale_c + beta_c) is <= 0, NaN where it
 * is NaN (the forward's own output); then sumGy_c += sum gy and
 * sumGyXc_c += sum gy * (x - mean_c). zeroWhereCut and gradientSums in the
 * reference.
 */
export function bnGradientSums(
  x: usize, gy: usize, rows: i32, channels: i32, mean: usize, scale: usize, beta: usize, relu: i32,
  sumGy: usize, sumGyXc: usize,
): void {
  const n = rows * channels;
  const block = blockOf(channels);
  const quads = channels & ~3;
  const zero = f32x4.splat(0);
  for (let i0 = 0; i0 < n; i0 += block) {
    const i1 = min(n, i0 + block);
    for (let c = 0; c < quads; c += 4) {
      const m = v128.load(mean + (<usize>c << 2));
      const m01 = low(m), m23 = high(m);
      const a01 = v128.load(scale + (<usize>c << 3)), a23 = v128.load(scale + (<usize>c << 3), 16);
      const b = v128.load(beta + (<usize>c << 2));
      const b01 = low(b), b23 = high(b);
      let g01 = f64x2.splat(0), g23 = f64x2.splat(0), h01 = f64x2.splat(0), h23 = f64x2.splat(0);
      for (let i = i0 + c; i < i1; i += channels) {
        const v = v128.load(x + (<usize>i << 2));
        let g = v128.load(gy + (<usize>i << 2));
        const d01 = f64x2.sub(low(v), m01), d23 = f64x2.sub(high(v), m23);
        if (relu) {
          const out = demote(f64x2.add(f64x2.mul(d01, a01), b01), f64x2.add(f64x2.mul(d23, a23), b23));
          // gy * [out > 0], NaN where the output was NaN
          g = v128.bitselect(out, v128.andnot(g, f32x4.le(out, zero)), f32x4.ne(out, out));
          v128.store(gy + (<usize>i << 2), g);
        }
        const gl = low(g), gh = high(g);
        g01 = f64x2.add(g01, gl);
        g23 = f64x2.add(g23, gh);
        h01 = f64x2.add(h01, f64x2.mul(gl, d01));
        h23 = f64x2.add(h23, f64x2.mul(gh, d23));
      }
      addPartials(sumGy, c, g01, g23);
      addPartials(sumGyXc, c, h01, h23);
    }
    for (let c = quads; c < channels; c++) {
      const mu = f32At(mean, c), a = f64At(scale, c), b = f32At(beta, c);
      let g: f64 = 0, h: f64 = 0;
      for (let i = i0 + c; i < i1; i += channels) {
        const p = gy + (<usize>i << 2);
        const d = f32At(x, i) - mu;
        if (relu) {
          const out = <f32>(d * a + b);
          if (out <= 0) store<f32>(p, 0);
          else if (out != out) store<f32>(p, out);
        }
        const v = <f64>load<f32>(p);
        g += v;
        h += v * d;
      }
      store<f64>(sumGy + (<usize>c << 3), f64At(sumGy, c) + g);
      store<f64>(sumGyXc + (<usize>c << 3), f64At(sumGyXc, c) + h);
    }
  }
}

/** Pass 2 of the training backward: gx = k1_c * gy + k2_c * (x - mean_c) + k0_c, rounded to f32. gx may be gy. */
export function bnInputGrad(
  x: usize, gy: usize, rows: i32, channels: i32, mean: usize, k1: usize, k2: usize, k0: usize, gx: usize,
): void {
  const n = rows * channels;
  const quads = channels & ~3;
  for (let c = 0; c < quads; c += 4) {
    const m = v128.load(mean + (<usize>c << 2));
    const m01 = low(m), m23 = high(m);
    const o = <usize>c << 3;
    const p01 = v128.load(k1 + o), p23 = v128.load(k1 + o, 16);
    const q01 = v128.load(k2 + o), q23 = v128.load(k2 + o, 16);
    const r01 = v128.load(k0 + o), r23 = v128.load(k0 + o, 16);
    for (let i = c; i < n; i += channels) {
      const v = v128.load(x + (<usize>i << 2));
      const g = v128.load(gy + (<usize>i << 2));
      const y01 = f64x2.add(f64x2.add(f64x2.mul(p01, low(g)), f64x2.mul(q01, f64x2.sub(low(v), m01))), r01);
      const y23 = f64x2.add(f64x2.add(f64x2.mul(p23, high(g)), f64x2.mul(q23, f64x2.sub(high(v), m23))), r23);
      v128.store(gx + (<usize>i << 2), demote(y01, y23));
    }
  }
  for (let c = quads; c < channels; c++) {
    const p = f64At(k1, c), q = f64At(k2, c), r = f64At(k0, c), mu = f32At(mean, c);
    for (let i = c; i < n; i += channels) {
      store<f32>(gx + (<usize>i << 2), <f32>(p * f32At(gy, i) + q * (f32At(x, i) - mu) + r));
    }
  }
}
