/**
 * What fit reports to callbacks, and when. One training run calls, in order:
 *
 *   onTrainBegin                                   once, before the first step
 *   for each step:  onStepEnd -> onValidation (if one runs) -> onEpochEnd (after an epoch's last batch)
 *   onTrainEnd                                     once, when fit returns (completed or stopped)
 *
 * as Keras' Callback (on_train_begin, on_train_batch_end, on_epoch_end after
 * the validation run, on_train_end). A run that throws calls no onTrainEnd.
 * Every hook gets the same `control`: `stop()` ends training after the current
 * step, and `model` and `optimizer` are what fit is training (Keras' `self.model`).
 */
import type { StepOptimizer, TrainableModel } from '../fit.js';

/** What `onStepEnd` callbacks receive (and `History.steps` holds) after each optimizer step. */
export interface StepInfo {
  /** 1-based count of optimizer steps taken so far. */
  step: number;
  /** 0-based epoch of this step. */
  epoch: number;
  /** Total loss of the step (data loss plus regularization). */
  loss: number;
  /** Training metrics of the step's batch. */
  metrics: Record<string, number>;
  /** Wall time of the step in milliseconds. */
  ms: number;
}

/** One validation run: the step and epoch it followed, the mean loss and the metrics over `validationData`. */
export interface ValidationInfo {
  /** Optimizer steps taken before this validation. */
  step: number;
  /** 0-based epoch of that step. */
  epoch: number;
  /** Mean validation loss (inference mode). */
  loss: number;
  /** Validation metrics by name. */
  metrics: Record<string, number>;
}

/**
 * What `onEpochEnd` callbacks receive (and `History.epochs` holds) after the
 * last batch of an epoch. The means weight each batch by its number of
 * examples (Keras' epoch logs do the same), so a short last batch counts for
 * what it holds: loss = sum_b(n_b * loss_b) / sum_b(n_b).
 */
export interface EpochInfo {
  /** 0-based epoch. */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  /** Mean training loss over the epoch's batches (data loss plus regularization). */
  loss: number;
  /** Mean of each training metric over the epoch's batches. */
  metrics: Record<string, number>;
  /**
   * The validation run at the end of this epoch (with `validationEvery`, the
   * last one inside it); undefined when none ran in this epoch.
   */
  validation?: ValidationInfo;
}

/** What `onTrainBegin` receives: enough to check a callback's settings before any step runs. */
export interface TrainBeginInfo {
  /** Steps fit will take unless stopped. */
  totalSteps: number;
  /** Batches per epoch. */
  stepsPerEpoch: number;
  /** Names of the training metrics (the keys of `metrics` in every info). */
  metrics: string[];
  /** True when `validationData` was given (so `val_loss` and `val_<metric>` will exist). */
  hasValidation: boolean;
}

/** Why fit returned: ran to the end, a callback's `stop()`, `earlyStopping`, or the abort signal. */
export type StopReason = 'completed' | 'callback' | 'earlyStopping' | 'signal';

/** The second argument of every hook. */
export interface TrainingControl {
  /** Ends training after the current step; `by` is what `History.stoppedBy` will say (default 'callback'). */
  stop(by?: 'callback' | 'earlyStopping'): void;
  /** The model being trained. */
  readonly model: TrainableModel;
  /** The optimizer training it. */
  readonly optimizer: StepOptimizer;
}

/** Hooks called by `fit` and `fitAsync`; every one is optional. */
export interface Callback {
  /** Once, before the first step (after the model is built). */
  onTrainBegin?(info: TrainBeginInfo, control: TrainingControl): void;
  /** After every optimizer step. */
  onStepEnd?(info: StepInfo, control: TrainingControl): void;
  /** After every validation run. */
  onValidation?(info: ValidationInfo, control: TrainingControl): void;
  /** After the last batch of every epoch, and after that batch's validation run. */
  onEpochEnd?(info: EpochInfo, control: TrainingControl): void;
  /** Once, when training ends without an error (completed, stopped or aborted). */
  onTrainEnd?(history: History, control: TrainingControl): void;
}

/** What `fit` returns: every step, every epoch, every validation, and why it stopped. */
export interface History {
  /** One entry per optimizer step. */
  steps: StepInfo[];
  /** One entry per completed epoch (an epoch cut short by `steps` or a stop has none). */
  epochs: EpochInfo[];
  /** One entry per validation run. */
  validation: ValidationInfo[];
  /** Why the loop ended. */
  stoppedBy: StopReason;
}
