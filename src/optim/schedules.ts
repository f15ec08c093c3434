/**
 * Learning-rate schedules with Keras' names and formulas
 * (keras.optimizers.schedules). Each is a plain function of the step, given
 * wherever a learning rate is: `new Adam({ learningRate: cosineDecay({...}) })`.
 *
 * The step: an optimizer calls its schedule with the 1-based number of the
 * step being taken (see `LearningRate`). Keras calls it with
 * `optimizer.iterations`, the number of steps already taken, so the formulas
 * below use k = step - 1: the first step uses initialLearningRate, exactly as
 * in Keras (and in PyTorch, whose lr_scheduler.step() runs after each
 * optimizer step).
 */
import { checkBoolean, checkNumber, checkOptions } from '../tensor/options.js';

/** Options of `exponentialDecay` (Keras' ExponentialDecay). */
export interface ExponentialDecayOptions {
  /** The rate of the first step, >= 0. */
  initialLearningRate: number;
  /** Steps over which the rate is multiplied by decayRate once, > 0. */
  decaySteps: number;
  /** The factor per decaySteps steps, > 0 (below 1 to decay). */
  decayRate: number;
  /** Decay in whole multiples of decaySteps, a step function (default false: smooth). */
  staircase?: boolean;
}

/**
 *   lr(k) = initialLearningRate * decayRate ^ (k / decaySteps)      k = step - 1
 *   staircase: the exponent is floor(k / decaySteps)
 *
 * PyTorch: staircase is StepLR(step_size=decaySteps, gamma=decayRate); with
 * decaySteps 1 both are ExponentialLR(gamma=decayRate).
 *
 * @example
 * const lr = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5 });
 * lr(1);   // 0.1
 * lr(101); // 0.05
 */
export function exponentialDecay(opts: ExponentialDecayOptions): (step: number) => number {
  const owner = 'exponentialDecay';
  checkRequired(owner, opts, ['initialLearningRate', 'decaySteps', 'decayRate'], ['staircase']);
  const lr0 = checkNumber(owner, 'initialLearningRate', opts.initialLearningRate, 0);
  const decaySteps = checkPositiveNumber(owner, 'decaySteps', opts.decaySteps);
  const decayRate = checkPositiveNumber(owner, 'decayRate', opts.decayRate);
  const staircase = checkBoolean(owner, 'staircase', opts.staircase ?? false);
  return (step) => {
    const p = stepsTaken(owner, step) / decaySteps;
    return lr0 * decayRate ** (staircase ? Math.floor(p) : p);
  };
}

/** Options of `cosineDecay` (Keras 3's CosineDecay, with its warmup). */
export interface CosineDecayOptions {
  /** The rate of the first step (the warmup's start when warming up), >= 0. */
  initialLearningRate: number;
  /** Steps of the cosine decay (after the warmup), > 0. */
  decaySteps: number;
  /** The final rate as a fraction of the decay's starting rate, in [0, 1] (default 0). */
  alpha?: number;
  /** The rate the warmup rises to and the decay starts from; required with warmupSteps. */
  warmupTarget?: number;
  /** Steps of linear warmup from initialLearningRate to warmupTarget (default 0: none). */
  warmupSteps?: number;
}

/**
 * Linear warmup, then half a cosine from the peak down to alpha * peak, then flat:
 *
 *   k < W:  lr = initialLearningRate + (warmupTarget - initialLearningRate) * k / W
 *   k >= W: lr = peak * ((1 - alpha) * 0.5 * (1 + cos(pi * min(k - W, D) / D)) + alpha)
 *
 * with k = step - 1, W = warmupSteps, D = decaySteps, and peak = warmupTarget
 * (initialLearningRate without warmup). Keras 3 ignores warmupSteps when
 * warmupTarget is unset; here giving one without the other is an error.
 *
 * PyTorch: for k <= D without warmup this is CosineAnnealingLR(T_max = D,
 * eta_min = alpha * initialLearningRate) (which rises again after T_max
 * where this stays flat); the warmup is LinearLR(start_factor =
 * initialLearningRate / warmupTarget, total_iters = W) ahead of it.
 *
 * @example
 * const lr = cosineDecay({ initialLearningRate: 0, warmupTarget: 0.1, warmupSteps: 10, decaySteps: 90 });
 * lr(1);   // 0      (k = 0)
 * lr(6);   // 0.05   (halfway up)
 * lr(11);  // 0.1    (the peak)
 * lr(56);  // 0.05   (halfway down)
 * lr(101); // 0      (and after)
 */
export function cosineDecay(opts: CosineDecayOptions): (step: number) => number {
  const owner = 'cosineDecay';
  checkRequired(owner, opts, ['initialLearningRate', 'decaySteps'], ['alpha', 'warmupTarget', 'warmupSteps']);
  const lr0 = checkNumber(owner, 'initialLearningRate', opts.initialLearningRate, 0);
  const decaySteps = checkPositiveNumber(owner, 'decaySteps', opts.decaySteps);
  const alpha = checkNumber(owner, 'alpha', opts.alpha ?? 0, 0, 1);
  const warmupSteps = checkNumber(owner, 'warmupSteps', opts.warmupSteps ?? 0, 0);
  const target = opts.warmupTarget === undefined ? null : checkNumber(owner, 'warmupTarget', opts.warmupTarget, 0);
  if ((target === null) !== (warmupSteps === 0)) {
    throw new Error(`${owner}: warmupTarget and warmupSteps > 0 go together (got warmupTarget ${String(target)}, warmupSteps ${warmupSteps})`);
  }
  const peak = target ?? lr0;
  return (step) => {
    const k = stepsTaken(owner, step);
    if (k < warmupSteps) return lr0 + (peak - lr0) * (k / warmupSteps);
    const fraction = Math.min(k - warmupSteps, decaySteps) / decaySteps;
    return peak * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * fraction)) + alpha);
  };
}

/** Options of `piecewiseConstant` (Keras' PiecewiseConstantDecay). */
export interface PiecewiseConstantOptions {
  /** Increasing step counts where the rate changes. */
  boundaries: readonly number[];
  /** The rates, one more than the boundaries, each >= 0. */
  values: readonly number[];
}

/**
 *   lr(k) = values[i], i = the number of boundaries b with b < k      k = step - 1
 *
 * so values[0] while k <= boundaries[0], values[1] while
 * boundaries[0] < k <= boundaries[1], ..., values[n] once k > boundaries[n-1].
 * PyTorch: MultiStepLR(milestones = boundaries + 1, gamma) when each value is
 * gamma times the one before.
 *
 * @example
 * const lr = piecewiseConstant({ boundaries: [100, 200], values: [0.1, 0.01, 0.001] });
 * [lr(101), lr(102), lr(201), lr(202)]; // [0.1, 0.01, 0.01, 0.001]
 */
export function piecewiseConstant(opts: PiecewiseConstantOptions): (step: number) => number {
  const owner = 'piecewiseConstant';
  checkRequired(owner, opts, ['boundaries', 'values'], []);
  const { boundaries, values } = opts;
  if (!Array.isArray(boundaries) || !Array.isArray(values)) {
    throw new Error(`${owner}: boundaries and values must be arrays of numbers`);
  }
  if (values.length !== boundaries.length + 1) {
    throw new Error(`${owner}: needs one more value than boundaries, got ${values.length} values for ${boundaries.length} boundaries`);
  }
  boundaries.forEach((b, i) => {
    checkNumber(owner, `boundaries[${i}]`, b);
    if (i > 0 && !(b > boundaries[i - 1]!)) throw new Error(`${owner}: boundaries must increase, got ${boundaries[i - 1]} then ${b}`);
  });
  values.forEach((v, i) => checkNumber(owner, `values[${i}]`, v, 0));
  const bs = [...boundaries];
  const vs = [...values];
  return (step) => {
    const k = stepsTaken(owner, step);
    let i = 0;
    while (i < bs.length && bs[i]! < k) i++;
    return vs[i]!;
  };
}

/** k = step - 1, the steps already taken, after checking step is an integer >= 1. */
function stepsTaken(owner: string, step: number): number {
  if (!Number.isInteger(step) || step < 1) throw new Error(`${owner}: the step must be an integer >= 1 (the 1-based step being taken), got ${String(step)}`);
  return step - 1;
}

function checkPositiveNumber(owner: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${owner}: ${option} must be a positive finite number, got ${String(value)}`);
  }
  return value;
}

/** checkOptions over required + optional keys, then each required key present. */
function checkRequired(owner: string, opts: unknown, required: readonly string[], optional: readonly string[]): void {
  if (opts === undefined) throw new Error(`${owner}: options { ${required.join(', ')} } are required`);
  checkOptions(owner, opts, [...required, ...optional]);
  for (const key of required) {
    if ((opts as Record<string, unknown>)[key] === undefined) throw new Error(`${owner}: option '${key}' is required`);
  }
}
