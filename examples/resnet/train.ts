/**
 * Training and evaluation for the ResNet example, apart from the command
 * line so that a test can run them in-process with small settings.
 *
 * Training goes through fitAsync: it returns to the event loop between
 * batches, so a Ctrl-C handler that aborts `signal` stops it after the
 * current batch (`history.stoppedBy === 'signal'`).
 */
import {
  Adam, evaluate, fitAsync, mnistSplit, mnistTensors, softmaxCrossEntropyWithLogits, type Dataset, type History, type Sequential,
} from '../../src/node.js';

/** The seeded 8000 / 1000 / 1000 split as tensors: x [n, 28, 28, 1] in [0, 1], y [n, 10] one-hot. */
export interface Splits {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

export function loadSplits(seed: number): Splits {
  const { train, validation, test } = mnistSplit({ seed });
  return { train: mnistTensors(train), validation: mnistTensors(validation), test: mnistTensors(test) };
}

export interface TrainOptions {
  epochs: number;
  /** Total batches; overrides `epochs` when given. */
  batches?: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Aborting it stops training after the current batch. */
  signal?: AbortSignal;
  /** Called after every batch with the 1-based batch count and that batch's loss. */
  onBatch?: (batch: number, loss: number) => void;
  /** Called with a progress line every `logEvery` batches and after each validation. */
  onLog?: (line: string) => void;
  /** Default 25. */
  logEvery?: number;
}

/** How many batches `trainResnet` will run for these options (last partial batch dropped). */
export function totalBatches(trainCount: number, opts: Pick<TrainOptions, 'epochs' | 'batches' | 'batchSize'>): number {
  return opts.batches ?? opts.epochs * Math.floor(trainCount / opts.batchSize);
}

/** Trains `model` with Adam and softmax cross-entropy; validates at the end of each epoch. */
export async function trainResnet(model: Sequential, splits: Splits, opts: TrainOptions): Promise<{ history: History; optimizer: Adam }> {
  const { logEvery = 25, onBatch, onLog } = opts;
  const optimizer = new Adam({ learningRate: opts.lr });
  const history = await fitAsync(model, splits.train, {
    optimizer,
    loss: softmaxCrossEntropyWithLogits,
    batchSize: opts.batchSize,
    epochs: opts.epochs,
    steps: opts.batches,
    seed: opts.seed,
    dropLast: true, // a batch of 1 would give batch norm a zero variance
    metrics: ['accuracy'],
    validationData: splits.validation,
    signal: opts.signal,
    callbacks: [{
      onStepEnd: ({ step, loss, metrics }) => {
        onBatch?.(step, loss);
        if (step % logEvery === 0) onLog?.(`Batch ${String(step).padStart(4)}: training loss ${loss.toFixed(4)}, training accuracy ${metrics.accuracy!.toFixed(4)}`);
      },
      onValidation: ({ step, epoch, loss, metrics }) => {
        onLog?.(`Epoch ${epoch + 1} (batch ${step}): validation loss ${loss.toFixed(4)}, validation accuracy ${metrics.accuracy!.toFixed(4)}`);
      },
    }],
  });
  return { history, optimizer };
}

/** Accuracy in inference mode (BN's moving statistics, no dropout). */
export function accuracy(model: Sequential, data: Dataset): number {
  return evaluate(model, data, { batchSize: 250 }).accuracy!;
}
