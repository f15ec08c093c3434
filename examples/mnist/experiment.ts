/**
 * One run of the lesson: train for a number of batches, printing training
 * loss/accuracy every 25 batches and validation every 100, then final
 * validation and test accuracy, then the lesson's own check that inference
 * uses the population statistics: 100 test images scored one at a time.
 *
 * Training runs through fitAsync, so an aborted `signal` (Ctrl-C) stops it
 * after the current batch; the run then saves its checkpoint if asked and
 * skips the evaluation (`interrupted` in the result).
 */
import {
  Adam, batchNormReport, evaluate, fitAsync, formatBatchNormReport, recomputeBatchNormStatistics, loadCheckpoint, mnistSplit, mnistTensors, noGrad, saveCheckpoint,
  sigmoidCrossEntropyWithLogits, sliceRows, type History, type Sequential, type Tensor,
} from '../../src/node.js';
import type { ExperimentArgs } from './args.js';
import { lessonNetwork } from './lesson-network.js';
import { createProgress } from './progress.js';

export interface RunResult {
  label: string;
  history: History | null;
  validationAccuracy: number;
  testAccuracy: number;
  /** Accuracy on the first 100 test images scored in one batch, and one at a time. */
  batchOf100Accuracy: number;
  oneAtATimeAccuracy: number;
  seconds: number;
  model: Sequential;
  /** True when the signal stopped training; nothing was evaluated. */
  interrupted: boolean;
}

const LOG_TRAIN_EVERY = 25;
const VALIDATE_EVERY = 100;

export function loadSplits(seed: number) {
  const { train, validation, test } = mnistSplit({ seed });
  const asData = (s: typeof train) => {
    const { x, y } = mnistTensors(s);
    return { x, y };
  };
  return { train: asData(train), validation: asData(validation), test: asData(test) };
}

type Splits = ReturnType<typeof loadSplits>;

export async function runExperiment(args: ExperimentArgs, batchNorm: boolean, splits: Splits, signal?: AbortSignal): Promise<RunResult> {
  const label = batchNorm ? 'with batch norm' : 'without batch norm';
  const model = lessonNetwork({ batchNorm, seed: args.seed });
  const optimizer = new Adam({ learningRate: args.lr });
  const start = performance.now();
  let history: History | null = null;

  if (args.load) {
    noGrad(() => model.call(sliceRows(splits.train.x, 0, 2), { isTraining: false })); // build the layers
    loadCheckpoint(model, args.load);
    console.log(`Loaded ${args.load}`);
  } else {
    console.log(`\nTraining ${label}: ${args.batches} batches of ${args.batchSize}, Adam lr ${args.lr}, seed ${args.seed}`);
    const progress = createProgress(args.batches, batchNorm ? 'BN   ' : 'no BN');
    try {
      history = await fitAsync(model, splits.train, {
        optimizer,
        loss: sigmoidCrossEntropyWithLogits,
        batchSize: args.batchSize,
        steps: args.batches,
        seed: args.seed,
        dropLast: true,
        metrics: ['accuracy'],
        validationData: splits.validation,
        validationEvery: VALIDATE_EVERY,
        signal,
        callbacks: [{
          onStepEnd: ({ step, loss, metrics }) => {
            progress.update(step, loss);
            if (step % LOG_TRAIN_EVERY === 0) {
              progress.log(`Batch ${String(step).padStart(4)}: training loss ${loss.toFixed(5)}, training accuracy ${metrics.accuracy!.toFixed(5)}`);
            }
          },
          onValidation: ({ step, loss, metrics }) => {
            progress.log(`Batch ${String(step).padStart(4)}: validation loss ${loss.toFixed(5)}, validation accuracy ${metrics.accuracy!.toFixed(5)}`);
          },
        }],
      });
    } finally {
      progress.stop();
    }
  }
  if (history?.stoppedBy === 'signal') {
    console.log(`Interrupted after batch ${history.steps.length} of ${args.batches}`);
    if (args.save) {
      saveCheckpoint(model, args.save, { optimizer });
      console.log(`Saved checkpoint to ${args.save}`);
    }
    const seconds = (performance.now() - start) / 1000;
    return { label, history, validationAccuracy: NaN, testAccuracy: NaN, batchOf100Accuracy: NaN, oneAtATimeAccuracy: NaN, seconds, model, interrupted: true };
  }

  if (args.report && batchNorm) {
    console.log(`\nBatch-norm health report (moving statistics vs. the first 256 validation images):`);
    console.log(formatBatchNormReport(batchNormReport(model, sliceRows(splits.validation.x, 0, 256))));
  }
  if (args.recompute && batchNorm) recompute(model, splits, args);
  if (args.save) {
    // Saved after any recompute, so the file holds the model evaluated below.
    saveCheckpoint(model, args.save, { optimizer });
    console.log(`Saved checkpoint to ${args.save}`);
  }

  const validationAccuracy = evaluate(model, splits.validation).accuracy!;
  const testAccuracy = evaluate(model, splits.test).accuracy!;
  const { batchOf100Accuracy, oneAtATimeAccuracy } = oneAtATime(model, splits.test.x, splits.test.y, 100);
  const seconds = (performance.now() - start) / 1000;
  console.log(`Final validation accuracy ${validationAccuracy.toFixed(5)}`);
  console.log(`Final test accuracy ${testAccuracy.toFixed(5)}`);
  console.log(`Accuracy on 100 test images scored one at a time: ${oneAtATimeAccuracy.toFixed(2)} (the same 100 in one batch: ${batchOf100Accuracy.toFixed(2)})`);
  console.log(`Wall time ${seconds.toFixed(1)} s`);
  return { label, history, validationAccuracy, testAccuracy, batchOf100Accuracy, oneAtATimeAccuracy, seconds, model, interrupted: false };
}

/**
 * The paper's population statistics vs. the moving averages: after a short
 * run, EMA statistics with momentum 0.99 still remember their initial 0/1.
 */
function recompute(model: Sequential, splits: Splits, args: ExperimentArgs): void {
  const before = evaluate(model, splits.validation).accuracy!;
  const count = Math.min(50, Math.floor(splits.train.x.shape[0]! / args.batchSize));
  const batches = Array.from({ length: count }, (_, i) => sliceRows(splits.train.x, i * args.batchSize, (i + 1) * args.batchSize));
  recomputeBatchNormStatistics(model, batches);
  const after = evaluate(model, splits.validation).accuracy!;
  console.log(`\nValidation accuracy with the moving averages (EMA): ${before.toFixed(5)}`);
  console.log(`Validation accuracy with recomputed population statistics (${count} batches): ${after.toFixed(5)}`);
}

/**
 * The lesson's check: a model that secretly used batch statistics at
 * inference would score single images badly (a batch of one has zero
 * variance). With population statistics, alone equals in-batch.
 */
function oneAtATime(model: Sequential, x: Tensor, y: Tensor, count: number) {
  return noGrad(() => {
    const n = Math.min(count, x.shape[0]!);
    const batch = evaluate(model, { x: sliceRows(x, 0, n), y: sliceRows(y, 0, n) }, { batchSize: n }).accuracy!;
    let correct = 0;
    for (let i = 0; i < n; i++) correct += evaluate(model, { x: sliceRows(x, i, i + 1), y: sliceRows(y, i, i + 1) }, { batchSize: 1 }).accuracy!;
    return { batchOf100Accuracy: batch, oneAtATimeAccuracy: correct / n };
  });
}
