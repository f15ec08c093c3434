/**
 * The training loop. Each step:
 *   1. forward with isTraining: true (BN uses batch statistics and updates
 *      its moving averages inside this call),
 *   2. loss = data loss + model.regularizationLoss(),
 *   3. backward (which releases the step's graph),
 *   4. optimizer.step(parameters) under noGrad,
 *   5. the non-finite guard (state-guard.ts): a NaN or infinity in anything
 *      the step wrote puts the state from before the step back and throws.
 * The loop never prints: progress is reported to callbacks. It is written
 * once, as a generator that yields after every step: `fit` runs it straight
 * through, `fitAsync` (fit-async.ts) returns to the event loop between steps.
 */
import { noGrad } from '../autograd/graph.js';
import { add } from '../autograd/ops/arithmetic.js';
import { sliceRows } from '../autograd/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/check.js';
import { epochOrder } from '../tensor/random.js';
import { batchRanges, checkDataset, gatherRows, type Dataset } from './batches.js';
import { evaluate, type Model } from './evaluate.js';
import type { Loss } from './losses.js';
import { resolveMetrics, type MetricSpec } from './metrics.js';
import { NonFiniteLossError, NonFiniteStateError } from './non-finite-error.js';
import { StateGuard, allFinite, type GuardedOptimizer } from './state-guard.js';
import type { Callback, EpochInfo, History, StepInfo, TrainingControl, ValidationInfo } from './callbacks/callback.js';

export { NonFiniteLossError, NonFiniteStateError };
export type { Callback, EpochInfo, History, StepInfo, TrainingControl, ValidationInfo };

/** What fit needs of a model: a layer-like call, its parameters and state. */
export interface TrainableModel extends Model {
  /** false until the first call creates the weights (Layer's lazy build). */
  readonly isBuilt?: boolean;
  /** The tensors the optimizer updates. */
  parameters(): Tensor[];
  /** Non-trainable state (BN's moving statistics), restored if a step turns out non-finite. */
  buffers(): Map<string, Tensor>;
  /** The weight penalties to add to the loss, or null. */
  regularizationLoss(): Tensor | null;
  /** Every tensor by checkpoint name; used to name a tensor that turned non-finite. */
  stateDict?(): Map<string, Tensor>;
}

/**
 * What fit needs of an optimizer (see src/optim). `saveState` and
 * `slotArrays` (the Optimizer base class has both) let fit's non-finite guard
 * check and restore the optimizer's slots too; without them only the model's
 * tensors are guarded.
 */
export interface StepOptimizer extends GuardedOptimizer {
  /** Updates `params` in place from their `grad`. */
  step(params: readonly Tensor[]): void;
}

/** Options of `fit`. Only `optimizer` and `loss` are required. */
export interface FitOptions {
  /** Takes one step from the gradients (SGD, Adam, RMSprop). */
  optimizer: StepOptimizer;
  /** (labels, outputs) -> scalar, e.g. `softmaxCrossEntropyWithLogits`. */
  loss: Loss;
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Passes over the data (default 1), unless `steps` is given. */
  epochs?: number;
  /** Total optimizer steps; crosses epochs as needed. Overrides `epochs`. */
  steps?: number;
  /** Seed of the per-epoch shuffles (default 0). */
  seed?: number;
  /** Shuffle the examples every epoch (default true). */
  shuffle?: boolean;
  /** Skip a last batch smaller than batchSize (BN needs 2+ values per channel). */
  dropLast?: boolean;
  /** Evaluated in inference mode at the end of each epoch, or every `validationEvery` steps. */
  validationData?: Dataset;
  /** Validate every this many steps (default: at the end of each epoch). */
  validationEvery?: number;
  /** Metrics computed on each training batch and on the validation data, e.g. `['accuracy']`. */
  metrics?: readonly MetricSpec[];
  /** Hooks called at the start and end of training, after every step, validation and epoch (see callbacks/callback.ts). */
  callbacks?: readonly Callback[];
  /**
   * Aborting stops training after the current step (`stoppedBy: 'signal'`).
   * `fit` is synchronous, so only a callback can abort it while it runs; a
   * timer or a signal handler (`AbortSignal.timeout`, Ctrl-C) needs `fitAsync`.
   */
  signal?: AbortSignal;
}

/** The model is layer-like and the options an object, before anything reads them. */
function checkFitArguments(model: TrainableModel, opts: FitOptions): void {
  if (model === null || typeof model !== 'object' || typeof model.call !== 'function' || typeof model.parameters !== 'function') {
    throw new Error(`fit: model must be a Layer or Sequential (with call and parameters), got ${describeValue(model)}`);
  }
  if (opts === null || typeof opts !== 'object') {
    throw new Error(`fit: options { optimizer, loss, ... } are required, got ${describeValue(opts)}`);
  }
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`fit: ${name} must be a positive integer, got ${String(v)}`);
}

/**
 * Trains `model` on `data`; returns the per-step, per-epoch and per-validation history.
 * Each step calls the model with `isTraining: true` (BN uses batch statistics
 * and updates its moving averages in that call), adds the regularization loss,
 * runs backward and the optimizer.
 *
 * A step that leaves anything non-finite throws: `NonFiniteLossError` for the
 * loss or a gradient, `NonFiniteStateError` (naming the tensor, e.g.
 * `bn3/movingVariance`) for a parameter, an optimizer slot or a moving
 * statistic. Either way the parameters, the moving statistics and the
 * optimizer's state are put back as they were before that step, and that
 * state is finite: fit checks it before the first step too.
 *
 * Synchronous: it returns when training ends. To stop it from a timer or a
 * signal handler, use `fitAsync`, which takes the same options.
 *
 * @example
 * const history = fit(model, { x, y }, {
 *   optimizer: new Adam({ learningRate: 1e-3 }), loss: softmaxCrossEntropyWithLogits,
 *   batchSize: 64, epochs: 5, metrics: ['accuracy'], validationData: { x: xVal, y: yVal },
 *   callbacks: [{ onValidation: (v, control) => { if (v.metrics.accuracy! > 0.99) control.stop(); } }],
 * });
 * history.steps.at(-1)!.loss;
 */
export function fit(model: TrainableModel, data: Dataset, opts: FitOptions): History {
  const loop = trainingLoop(model, data, opts);
  for (;;) {
    const r = loop.next();
    if (r.done) return r.value;
  }
}

/**
 * The loop behind `fit` and `fitAsync`: checks the options (eagerly, on the
 * first `next()`), then yields after every step (its callbacks and any
 * validation done) and returns the history.
 */
export function* trainingLoop(model: TrainableModel, data: Dataset, opts: FitOptions): Generator<void, History, void> {
  checkFitArguments(model, opts);
  const { optimizer, loss, batchSize = 32, epochs = 1, steps, seed = 0, shuffle = true, dropLast = false } = opts;
  const n = checkDataset('fit', data);
  if (!optimizer || typeof optimizer.step !== 'function') throw new Error('fit: options.optimizer with a step(params) method is required');
  if (typeof loss !== 'function') throw new Error('fit: options.loss (e.g. softmaxCrossEntropyWithLogits) is required');
  positiveInt('batchSize', batchSize);
  positiveInt('epochs', epochs);
  positiveInt('steps', steps);
  positiveInt('validationEvery', opts.validationEvery);
  if (opts.validationData && checkDataset('fit (validationData)', opts.validationData) === 0) throw new Error('fit: validationData has 0 examples');
  const ranges = batchRanges(n, batchSize, dropLast);
  if (ranges.length === 0) throw new Error(`fit: no batch of ${batchSize} fits in ${n} examples with dropLast`);
  const metrics = resolveMetrics('fit', opts.metrics ?? []);
  const callbacks = opts.callbacks ?? [];
  const totalSteps = steps ?? epochs * ranges.length;

  const history: History = { steps: [], epochs: [], validation: [], stoppedBy: 'completed' };
  let stopBy: 'callback' | 'earlyStopping' | null = null;
  const control: TrainingControl = { stop: (by = 'callback') => void (stopBy ??= by), model, optimizer };
  const finish = (by: History['stoppedBy']): History => {
    history.stoppedBy = by;
    for (const cb of callbacks) cb.onTrainEnd?.(history, control);
    return history;
  };

  let epochValidation: ValidationInfo | undefined;
  const validate = (step: number, epoch: number): void => {
    if (!opts.validationData) return;
    const result = evaluate(model, opts.validationData, { batchSize: Math.max(batchSize, 256), loss, metrics });
    const { loss: vLoss = NaN, ...vMetrics } = result;
    const info: ValidationInfo = { step, epoch, loss: vLoss, metrics: vMetrics };
    history.validation.push(info);
    epochValidation = info;
    for (const cb of callbacks) cb.onValidation?.(info, control);
  };

  // Build the layers before the first step, so that step's parameters exist
  // when the optimizer and the state snapshot ask for them. An inference call
  // changes nothing (BN's statistics stay at their initial values).
  if (!model.isBuilt) noGrad(() => model.call(sliceRows(data.x, 0, Math.min(2, n)), { isTraining: false }));
  const guard = new StateGuard(model, optimizer);
  const before = guard.firstNonFinite();
  if (before) throw new NonFiniteStateError(0, 0, NaN, before);
  const beginInfo = { totalSteps, stepsPerEpoch: ranges.length, metrics: metrics.map((m) => m.name), hasValidation: !!opts.validationData };
  for (const cb of callbacks) cb.onTrainBegin?.(beginInfo, control);

  let step = 0;
  for (let epoch = 0; step < totalSteps; epoch++) {
    const order = epochOrder(n, seed, epoch, shuffle);
    // Epoch means weighted by batch size: sum_b(n_b * value_b) / sum_b(n_b).
    let examples = 0;
    let lossSum = 0;
    const metricSums: Record<string, number> = Object.fromEntries(metrics.map((m) => [m.name, 0]));
    epochValidation = undefined;
    for (const [s, e] of ranges) {
      if (step >= totalSteps) break;
      if (opts.signal?.aborted) return finish('signal');
      const info = trainStep(model, optimizer, guard, loss, metrics, gatherRows(data.x, order, s, e), gatherRows(data.y, order, s, e), ++step, epoch);
      history.steps.push(info);
      examples += e - s;
      lossSum += (e - s) * info.loss;
      for (const m of metrics) metricSums[m.name]! += (e - s) * info.metrics[m.name]!;
      for (const cb of callbacks) cb.onStepEnd?.(info, control);
      const epochEnds = s === ranges[ranges.length - 1]![0];
      if (opts.validationEvery ? step % opts.validationEvery === 0 : epochEnds) validate(step, epoch);
      if (epochEnds) {
        const means = Object.fromEntries(metrics.map((m) => [m.name, metricSums[m.name]! / examples]));
        const epochInfo: EpochInfo = { epoch, step, loss: lossSum / examples, metrics: means };
        if (epochValidation) epochInfo.validation = epochValidation;
        history.epochs.push(epochInfo);
        for (const cb of callbacks) cb.onEpochEnd?.(epochInfo, control);
      }
      if (stopBy !== null) return finish(stopBy);
      yield;
    }
  }
  return finish('completed');
}

function trainStep(
  model: TrainableModel, optimizer: StepOptimizer, guard: StateGuard, loss: Loss,
  metrics: { name: string; fn: (y: Tensor, out: Tensor) => number }[],
  x: Tensor, y: Tensor, step: number, epoch: number,
): StepInfo {
  const start = performance.now();
  // The forward pass updates BN's moving statistics and the optimizer the
  // parameters and its slots: copy them, to restore if this step fails (an
  // error, or a non-finite loss, gradient or result).
  guard.save();
  const restore = (): void => guard.restore();
  const params = model.parameters();
  for (const p of params) p.grad = null;

  let out: Tensor;
  let value: number;
  try {
    out = model.call(x, { isTraining: true });
    const reg = model.regularizationLoss();
    const dataLoss = loss(y, out);
    const total = reg ? add(dataLoss, reg) : dataLoss;
    value = total.item();
    if (Number.isFinite(value)) total.backward();
  } catch (e) {
    restore();
    throw e;
  }
  const badGradient = Number.isFinite(value) && params.some((p) => p.grad !== null && !allFinite(p.grad.data));
  if (!Number.isFinite(value) || badGradient) {
    restore();
    throw new NonFiniteLossError(step, epoch, value, badGradient);
  }
  try {
    optimizer.step(params);
  } catch (e) {
    restore();
    throw e;
  }
  const bad = guard.firstNonFinite();
  if (bad) {
    restore();
    throw new NonFiniteStateError(step, epoch, value, bad);
  }
  const values: Record<string, number> = {};
  for (const m of metrics) values[m.name] = m.fn(y, out);
  return { step, epoch, loss: value, metrics: values, ms: performance.now() - start };
}
