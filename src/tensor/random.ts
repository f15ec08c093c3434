import { checkShape, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import { allocate, describeValue, withSizeCheck } from './check.js';

/**
 * A small seeded PRNG (mulberry32): 32 bits of state, period 2^32, fast and
 * good enough for initialization and shuffling. Same seed, same numbers.
 * normgrad never calls Math.random.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Random: seed must be a finite number, got ${String(seed)}`);
    this.state = Math.trunc(seed) >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal by Box-Muller: sqrt(-2 ln u1) * cos(2 pi u2). */
  normal(): number {
    const u1 = 1 - this.next(); // in (0, 1], so log is finite
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new Error(`Random.permutation: n must be an integer in [0, 2^31 - 1], got ${describeValue(n)}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}

/** Options shared by the random tensor makers: the seed is required, so results are reproducible. */
export interface RandomOptions {
  /** Required: the same seed always gives the same values. */
  seed: number;
}

function filled(op: string, shape: Shape, draw: () => number): Tensor {
  checkShape(op, shape);
  const data = allocate(op, shape);
  for (let i = 0; i < data.length; i++) data[i] = draw();
  return new Tensor(data, shape);
}

function requireSeed(op: string, opts: RandomOptions | undefined): Random {
  if (!opts || !Number.isFinite(opts.seed)) throw new Error(`${op}: options.seed (a number) is required`);
  return new Random(opts.seed);
}

/**
 * Uniform values in [minval, maxval). A draw just below maxval can round up to
 * maxval when stored as float32 (u > 1 - 2^-25 does for [0, 1)); it is redrawn.
 */
export function randomUniform(shape: Shape, opts: RandomOptions & { minval?: number; maxval?: number }): Tensor {
  const rng = requireSeed('randomUniform', opts);
  const { minval = 0, maxval = 1 } = opts;
  if (!(Math.fround(minval) < maxval)) throw new Error(`randomUniform: maxval ${maxval} must exceed minval ${minval}`);
  return filled('randomUniform', shape, () => {
    let v: number;
    do v = Math.fround(minval + (maxval - minval) * rng.next());
    while (v >= maxval);
    return v;
  });
}

/** Normal values with the given mean and standard deviation. */
export function randomNormal(shape: Shape, opts: RandomOptions & { mean?: number; stddev?: number }): Tensor {
  const rng = requireSeed('randomNormal', opts);
  const { mean = 0, stddev = 1 } = opts;
  if (!(stddev >= 0)) throw new Error(`randomNormal: stddev ${stddev} must be >= 0`);
  return filled('randomNormal', shape, () => mean + stddev * rng.normal());
}

/**
 * TensorFlow's truncated normal: draws from N(mean, stddev^2) and redraws any
 * value more than 2 standard deviations from the mean.
 */
export function truncatedNormal(shape: Shape, opts: RandomOptions & { mean?: number; stddev?: number }): Tensor {
  const rng = requireSeed('truncatedNormal', opts);
  const { mean = 0, stddev = 1 } = opts;
  if (!(stddev >= 0)) throw new Error(`truncatedNormal: stddev ${stddev} must be >= 0`);
  return filled('truncatedNormal', shape, () => {
    let z: number;
    do z = rng.normal();
    while (Math.abs(z) > 2);
    return mean + stddev * z;
  });
}

/**
 * The example order of one training epoch: 0..n-1, or a permutation drawn
 * from a seed that mixes (seed, epoch), so every epoch reshuffles and the
 * same (seed, epoch) always gives the same order. Shared by `fit` and the
 * MNIST batcher.
 */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new Error(`epochOrder: n must be an integer in [0, 2^31 - 1] (the number of examples), got ${describeValue(n)}`);
  if (!Number.isFinite(seed)) throw new Error(`epochOrder: seed must be a finite number, got ${describeValue(seed)}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`epochOrder: epoch must be a non-negative integer, got ${describeValue(epoch)}`);
  return withSizeCheck('epochOrder', [n], () => {
    if (!shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return new Random((Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(epoch + 1, 0x85ebca6b)) >>> 0).permutation(n);
  });
}
