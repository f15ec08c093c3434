/**
 * Repeated timing with warm-up, reported as min / median / max.
 *
 * One call of `fn` is one unit of work (one GEMM, one training step). Fast
 * calls are batched: a sample runs `fn` `inner` times and records the mean,
 * so every sample lasts at least `minSampleMs` and the timer's resolution
 * does not matter. The number of samples fills `budgetMs`, within
 * [minRuns, maxRuns]. A call slower than `slowCallMs` (TF.js's cpu backend
 * takes minutes for some kernels) is not repeated for a warm-up: that first
 * call is the first sample, and only `slowRuns` samples are taken. A caller
 * that has already warmed a slow call up fixes `runs` instead.
 */

/** Milliseconds per call, or a rate derived from them. */
export interface Stat {
  min: number;
  median: number;
  max: number;
  /** Samples taken (each the mean of `inner` calls). */
  runs: number;
  /** Calls per sample. */
  inner: number;
  /** The first call (not warmed up) is one of the samples: a slow call. */
  firstCallTimed?: boolean;
  /** Warm-up calls made before the samples (set by `measure`). */
  warmup?: number;
}

export interface TimingOptions {
  /** Warm-up calls before timing, at least (default 2). */
  minWarmup: number;
  /** Keep warming up until this much time has passed (default 300 ms). */
  warmupMs: number;
  /** A call that takes this long is slow: it counts as a sample, no warm-up. */
  slowCallMs: number;
  /** Samples of a slow call, the first call included. */
  slowRuns: number;
  /** Shortest sample; fast calls are repeated inside a sample to reach it. */
  minSampleMs: number;
  /** Time to spend on samples; sets the number of runs. */
  budgetMs: number;
  minRuns: number;
  maxRuns: number;
  /** A fixed number of samples of one call each (overrides the budget). */
  runs?: number;
}

export const DEFAULT_TIMING: TimingOptions = {
  minWarmup: 2, warmupMs: 300, slowCallMs: 5000, slowRuns: 2, minSampleMs: 20, budgetMs: 3000, minRuns: 3, maxRuns: 15,
};

export const QUICK_TIMING: TimingOptions = {
  minWarmup: 1, warmupMs: 30, slowCallMs: 2000, slowRuns: 1, minSampleMs: 5, budgetMs: 300, minRuns: 2, maxRuns: 3,
};

/** min / median / max of a non-empty list. */
export function summarize(samples: readonly number[], inner = 1): Stat {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]!, runs: s.length, inner };
}

/** Times `fn` (ms per call) after warm-up. */
export function measure(fn: () => void, opts: TimingOptions): Stat {
  let last = Infinity;
  let warmed = 0;
  const warmStart = performance.now();
  while (warmed < opts.minWarmup || performance.now() - warmStart < opts.warmupMs) {
    const t0 = performance.now();
    fn();
    last = performance.now() - t0;
    warmed++;
    if (last >= opts.slowCallMs) {
      const samples = [last];
      while (samples.length < opts.slowRuns) samples.push(timeCalls(fn, 1));
      return { ...summarize(samples), firstCallTimed: true, warmup: warmed - 1 };
    }
  }
  if (opts.runs !== undefined) {
    const samples: number[] = [];
    for (let r = 0; r < opts.runs; r++) samples.push(timeCalls(fn, 1));
    return { ...summarize(samples), warmup: warmed };
  }
  const perCall = Number.isFinite(last) ? Math.max(last, 1e-3) : opts.minSampleMs;
  const inner = Math.max(1, Math.ceil(opts.minSampleMs / perCall));
  const runs = clamp(Math.floor(opts.budgetMs / (perCall * inner)), opts.minRuns, opts.maxRuns);
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) samples.push(timeCalls(fn, inner));
  return { ...summarize(samples, inner), warmup: warmed };
}

/**
 * The sample plan of a finished measurement, for an engine timed out of
 * process (PyTorch, onnxruntime-web) that must make the same number of
 * warm-up calls and samples of the same number of calls.
 */
export interface SamplePlan {
  warmup: number;
  runs: number;
  inner: number;
}

export function planOf(stat: Stat): SamplePlan {
  return { warmup: Math.max(1, stat.warmup ?? 1), runs: stat.runs, inner: stat.inner };
}

/**
 * The better of two rounds of the same cell (ABAB interleaving): the one
 * with the lower median time.
 */
export function better(a: Stat, b: Stat): Stat {
  return b.median < a.median ? b : a;
}

function timeCalls(fn: () => void, inner: number): number {
  const t0 = performance.now();
  for (let i = 0; i < inner; i++) fn();
  return (performance.now() - t0) / inner;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/**
 * A time stat (ms per call) turned into a rate: `work` units per call,
 * reported per second and scaled by `scale` (1e9 for GFLOP/s, GB/s). The
 * fastest sample gives the highest rate.
 */
export function rate(time: Stat, work: number, scale: number): Stat {
  const r = (ms: number): number => work / (ms / 1000) / scale;
  return { min: r(time.max), median: r(time.median), max: r(time.min), runs: time.runs, inner: time.inner };
}
