/**
 * modelCheckpoint (Node only: it writes files with saveCheckpoint, atomically):
 * save the model at the end of every epoch, or only when the monitored
 * quantity improved, as Keras' ModelCheckpoint with save_freq='epoch':
 *
 *   saveBestOnly false:  save after every epoch
 *   saveBestOnly true:   save when current beats the best saved so far
 *                        (min: current < best, max: current > best; strict, no minDelta)
 *
 * `{epoch}` in the path is the 1-based epoch number, as in Keras
 * (`{epoch}` -> 3 after the third epoch; `{epoch:03d}` -> 003), so a path
 * without it is overwritten by each save. An epoch in which a val_ monitor was
 * not reported (no validation ran in it) saves nothing with saveBestOnly.
 */
import { checkBoolean, checkOneOf, checkOptions, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Callback, EpochInfo, TrainBeginInfo, TrainingControl } from './callbacks/callback.js';
import { checkMonitorAvailable, epochLogs, isImprovement, resolveMode, type MonitorMode } from './callbacks/monitor.js';
import { saveCheckpoint } from './checkpoint-file.js';
import type { HasOptimizerState, HasState } from './checkpoint.js';

/** Options of `modelCheckpoint`. */
export interface ModelCheckpointOptions {
  /** What decides "best" with saveBestOnly: 'val_loss' (default), 'loss', 'val_accuracy', ... */
  monitor?: string;
  /** Save only epochs that improve on the best so far (default false: save every epoch). */
  saveBestOnly?: boolean;
  /** 'min', 'max', or 'auto' (default): minimize losses, maximize accuracies. */
  mode?: MonitorMode;
  /** Also save the optimizer's state, to resume training from the file (default false). */
  saveOptimizer?: boolean;
}

const OWNER = 'modelCheckpoint';
const KEYS = ['monitor', 'saveBestOnly', 'mode', 'saveOptimizer'];
const PLACEHOLDER = /\{([^{}]*)\}/g;
const EPOCH = /^epoch(?::0?(\d+)d)?$/;

/** One file written: the 0-based epoch, the path, and the monitored value (undefined if not reported). */
export interface SavedCheckpoint {
  /** 0-based epoch whose end state the file holds. */
  epoch: number;
  /** The file written. */
  path: string;
  /** The monitored value at that epoch. */
  value: number | undefined;
}

/** The callback `modelCheckpoint` returns; `saved` lists the files it wrote in this fit. */
export class ModelCheckpoint implements Callback {
  /** The path pattern, possibly with {epoch}. */
  readonly path: string;
  /** The quantity saveBestOnly compares. */
  readonly monitor: string;
  /** Whether only improving epochs are saved. */
  readonly saveBestOnly: boolean;
  /** Whether the optimizer's state goes into the file too. */
  readonly saveOptimizer: boolean;
  /** 'min' or 'max' (resolved from 'auto' when saveBestOnly needs it). */
  readonly mode: 'min' | 'max' | 'auto';
  /** Best monitored value saved so far. */
  best = NaN;
  /** Every file written during the last fit, in order. */
  saved: SavedCheckpoint[] = [];

  constructor(path: string, options: ModelCheckpointOptions = {}) {
    if (typeof path !== 'string' || path === '') throw new Error(`${OWNER}: path must be a file name such as 'model-{epoch}.safetensors', got ${describe(path)}`);
    for (const [, inside] of path.matchAll(PLACEHOLDER)) {
      if (!EPOCH.test(inside!)) throw new Error(`${OWNER}: path '${path}' has '{${inside}}'; the only placeholder is {epoch} (or {epoch:02d})`);
    }
    checkOptions(OWNER, options, KEYS);
    const { monitor = 'val_loss', saveBestOnly = false, mode = 'auto', saveOptimizer = false } = options;
    if (typeof monitor !== 'string' || monitor === '') throw new Error(`${OWNER}: monitor must be a name such as 'val_loss', got ${describe(monitor)}`);
    this.path = path;
    this.monitor = monitor;
    this.saveBestOnly = checkBoolean(OWNER, 'saveBestOnly', saveBestOnly);
    this.saveOptimizer = checkBoolean(OWNER, 'saveOptimizer', saveOptimizer);
    const checked = checkOneOf(OWNER, 'mode', mode, ['min', 'max', 'auto'] as const);
    // Without saveBestOnly the monitor decides nothing, so only resolve (and possibly refuse) 'auto' when it matters.
    this.mode = this.saveBestOnly ? resolveMode(OWNER, monitor, checked) : checked;
  }

  /** The file name for a 0-based epoch: `{epoch}` becomes epoch + 1, zero-padded if asked. */
  filePath(epoch: number): string {
    return this.path.replace(PLACEHOLDER, (_, inside: string) => {
      const width = EPOCH.exec(inside)![1];
      return String(epoch + 1).padStart(width === undefined ? 0 : Number(width), '0');
    });
  }

  /** Checks the monitor (with saveBestOnly), that the model has a stateDict, and the optimizer's state (saveOptimizer). */
  onTrainBegin(info: TrainBeginInfo, control: TrainingControl): void {
    if (this.saveBestOnly) checkMonitorAvailable(OWNER, this.monitor, info);
    if (typeof control.model.stateDict !== 'function') throw new Error(`${OWNER}: the model needs stateDict() (a Layer or Sequential has it)`);
    if (this.saveOptimizer && !hasOptimizerState(control.optimizer)) {
      throw new Error(`${OWNER}: saveOptimizer needs an optimizer with stateDict and loadStateDict (SGD, Adam, RMSprop have them)`);
    }
    this.best = this.mode === 'max' ? -Infinity : Infinity;
    this.saved = [];
  }

  /** Saves this epoch's state if saveBestOnly is off or the monitor improved. */
  onEpochEnd(info: EpochInfo, control: TrainingControl): void {
    const current = epochLogs(info)[this.monitor];
    if (this.saveBestOnly) {
      if (current === undefined || !isImprovement(this.mode as 'min' | 'max', current, this.best)) return;
      this.best = current;
    }
    const path = this.filePath(info.epoch);
    const model = control.model as unknown as HasState;
    const optimizer = this.saveOptimizer ? (control.optimizer as unknown as HasOptimizerState) : undefined;
    saveCheckpoint(model, path, optimizer ? { optimizer } : {});
    this.saved.push({ epoch: info.epoch, path, value: current });
  }
}

function hasOptimizerState(o: unknown): boolean {
  const s = o as { stateDict?: (names: Map<Tensor, string>) => unknown; loadStateDict?: unknown };
  return typeof s.stateDict === 'function' && typeof s.loadStateDict === 'function';
}

/**
 * Saves the model with `saveCheckpoint` (atomically: a crash leaves the old
 * file or the new one) at the end of every epoch of `fit` or `fitAsync`, or,
 * with `saveBestOnly`, only when `monitor` improved (Keras' ModelCheckpoint).
 * `{epoch}` in `path` is the 1-based epoch (Keras' numbering).
 *
 * @example
 * const best = modelCheckpoint('best.safetensors', { monitor: 'val_accuracy', saveBestOnly: true });
 * fit(model, train, { optimizer, loss, epochs: 20, metrics: ['accuracy'], validationData: val, callbacks: [best] });
 * loadCheckpoint(model, 'best.safetensors'); // the best epoch's parameters and moving statistics
 */
export function modelCheckpoint(path: string, options: ModelCheckpointOptions = {}): ModelCheckpoint {
  return new ModelCheckpoint(path, options);
}
