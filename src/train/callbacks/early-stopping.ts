/**
 * earlyStopping: stop training once the monitored quantity has stopped
 * improving, with the semantics of Keras 3's EarlyStopping
 * (keras/src/callbacks/early_stopping.py). At the end of each epoch that
 * reports the monitor (and is at least `startFromEpoch`):
 *
 *   wait += 1
 *   if improved(current, best):   best = current; snapshot the state; wait = 0 (if it also beats `baseline`)
 *   else if wait >= patience and epoch > 0:   stop
 *
 * improved: min mode  current + minDelta < best,  max mode  current - minDelta > best.
 * Patience counts epochs (not validation runs): an epoch in which no
 * validation ran (possible with `validationEvery`) leaves a val_ monitor
 * unreported and is skipped, as Keras skips an epoch without the value.
 *
 * restoreBestWeights copies the whole `stateDict()` (parameters AND batch
 * norm's moving statistics) at the best epoch, and puts it back when training
 * ends, whether it stopped early, completed, or was aborted (Keras 3 restores
 * in on_train_end too). The optimizer's state is not restored (nor in Keras).
 */
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkOptions, describe } from '../../tensor/options.js';
import type { Callback, EpochInfo, TrainBeginInfo, TrainingControl } from './callback.js';
import { checkMonitorAvailable, epochLogs, isImprovement, resolveMode, type MonitorMode } from './monitor.js';

/** Options of `earlyStopping`; every one has Keras' default. */
export interface EarlyStoppingOptions {
  /** What to watch: 'val_loss' (default), 'loss', 'accuracy', 'val_accuracy', 'val_<metric>'. */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0); its sign is ignored. */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0: stop at the first one). */
  patience?: number;
  /** 'min', 'max', or 'auto' (default): minimize losses, maximize accuracies. */
  mode?: MonitorMode;
  /** Training stops unless the monitor beats this within `patience` epochs (default: none). */
  baseline?: number;
  /** Put back the state (parameters and moving statistics) of the best epoch when training ends (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching at all, e.g. a warm-up (default 0). */
  startFromEpoch?: number;
}

const OWNER = 'earlyStopping';
const KEYS = ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'];

/** The callback `earlyStopping` returns; its fields tell what it saw (reset by each fit). */
export class EarlyStopping implements Callback {
  /** The watched quantity, e.g. 'val_loss'. */
  readonly monitor: string;
  /** The direction, resolved from 'auto'. */
  readonly mode: 'min' | 'max';
  /** Smallest improvement that counts (>= 0). */
  readonly minDelta: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Value the monitor must beat to reset the wait, if any. */
  readonly baseline: number | undefined;
  /** Whether training ends with the best epoch's state. */
  readonly restoreBestWeights: boolean;
  /** First 0-based epoch watched. */
  readonly startFromEpoch: number;
  /** Best monitored value so far (Infinity in min mode, -Infinity in max mode before any). */
  best = 0;
  /** 0-based epoch of `best`, or -1. */
  bestEpoch = -1;
  /** 0-based epoch at which it stopped training, or -1. */
  stoppedEpoch = -1;
  /** Epochs seen since the last improvement. */
  wait = 0;
  private bestState: Map<string, Float32Array> | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    checkOptions(OWNER, options, KEYS);
    const { monitor = 'val_loss', minDelta = 0, patience = 0, mode = 'auto', baseline, restoreBestWeights = false, startFromEpoch = 0 } = options;
    if (typeof monitor !== 'string' || monitor === '') throw new Error(`${OWNER}: monitor must be a name such as 'val_loss', got ${describe(monitor)}`);
    this.monitor = monitor;
    this.mode = resolveMode(OWNER, monitor, checkOneOf(OWNER, 'mode', mode, ['min', 'max', 'auto'] as const));
    this.minDelta = Math.abs(checkNumber(OWNER, 'minDelta', minDelta));
    this.patience = checkInteger(OWNER, 'patience', patience, 0);
    this.baseline = baseline === undefined ? undefined : checkNumber(OWNER, 'baseline', baseline);
    this.restoreBestWeights = checkBoolean(OWNER, 'restoreBestWeights', restoreBestWeights);
    this.startFromEpoch = checkInteger(OWNER, 'startFromEpoch', startFromEpoch, 0);
    this.reset();
  }

  private reset(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.wait = 0;
    this.bestState = null;
  }

  /** Checks the monitor exists in this fit and the model has a stateDict to snapshot; resets the counters. */
  onTrainBegin(info: TrainBeginInfo, control: TrainingControl): void {
    checkMonitorAvailable(OWNER, this.monitor, info);
    if (this.restoreBestWeights && typeof control.model.stateDict !== 'function') {
      throw new Error(`${OWNER}: restoreBestWeights needs model.stateDict() (a Layer or Sequential has it)`);
    }
    this.reset();
  }

  /** Keras' on_epoch_end: count, compare, snapshot, maybe stop. */
  onEpochEnd(info: EpochInfo, control: TrainingControl): void {
    const current = epochLogs(info)[this.monitor];
    if (current === undefined || info.epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestState === null) this.snapshot(control, info.epoch);
    this.wait++;
    if (isImprovement(this.mode, current, this.best, this.minDelta)) {
      this.best = current;
      this.bestEpoch = info.epoch;
      if (this.restoreBestWeights) this.snapshot(control, info.epoch);
      if (this.baseline === undefined || isImprovement(this.mode, current, this.baseline, this.minDelta)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && info.epoch > 0) {
      this.stoppedEpoch = info.epoch;
      control.stop('earlyStopping');
    }
  }

  /** Puts the best epoch's state back (restoreBestWeights). */
  onTrainEnd(_history: unknown, control: TrainingControl): void {
    if (!this.restoreBestWeights || this.bestState === null) return;
    const live = control.model.stateDict!();
    for (const [name, saved] of this.bestState) {
      const t = live.get(name);
      if (!t || t.data.length !== saved.length) throw new Error(`${OWNER}: cannot restore '${name}': the model's state changed shape during training`);
    }
    for (const [name, saved] of this.bestState) live.get(name)!.data.set(saved);
  }

  private snapshot(control: TrainingControl, epoch: number): void {
    const copies = new Map<string, Float32Array>();
    for (const [name, t] of control.model.stateDict!()) copies.set(name, Float32Array.from(t.data));
    this.bestState = copies;
    if (this.bestEpoch < 0) this.bestEpoch = epoch;
  }
}

/**
 * Stops `fit` (or `fitAsync`) when `monitor` has not improved for `patience`
 * epochs; `history.stoppedBy` is then 'earlyStopping'. Keras 3 semantics:
 * monitor 'val_loss', minDelta 0, patience 0, mode 'auto' by default.
 * With `restoreBestWeights`, the model ends training with the parameters and
 * moving statistics of its best epoch.
 *
 * @example
 * const stopper = earlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true });
 * const history = fit(model, train, { optimizer, loss, epochs: 100, validationData: val, callbacks: [stopper] });
 * history.stoppedBy;  // 'earlyStopping' if it stopped early
 * stopper.bestEpoch;  // the epoch whose state the model now holds
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStopping {
  return new EarlyStopping(options);
}
