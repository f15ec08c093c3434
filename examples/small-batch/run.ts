/**
 * One run of the experiment: a fresh network with one normalization,
 * trained on `examples` training examples in batches of `batchSize`, then
 * scored on the validation split in inference mode (BN uses its moving
 * statistics).
 *
 * Every run sees the same number of examples, so a batch of 2 takes 16x
 * the steps of a batch of 32. The learning rate is linear in the batch size,
 * lr = baseLr * batchSize / 32, as Wu & He (2018) do (after Goyal et al.,
 * 2017), so every run travels about the same distance per example seen.
 *
 * The loss is softmax cross-entropy, not the lesson's sigmoid one: in runs
 * this short, the GroupNorm and LayerNorm networks trained with the sigmoid
 * loss sat at the class prior (loss 0.325) for hundreds of steps.
 */
import { Adam, batchNormLayers, evaluate, fit, softmaxCrossEntropyWithLogits, type Tensor } from '../../src/index.js';
import { normNetwork, renormClipping, type NormKind } from './network.js';

export interface Data {
  x: Tensor;
  y: Tensor;
}

export interface RunOptions {
  norm: NormKind;
  batchSize: number;
  examples: number;
  /** Adam learning rate at batch size 32; scaled linearly with the batch size. */
  baseLr: number;
  momentum: number;
  seed: number;
}

export interface RunResult {
  norm: NormKind;
  batchSize: number;
  steps: number;
  lr: number;
  validationAccuracy: number;
  /** Mean training loss over the last tenth of the steps. */
  finalTrainingLoss: number;
  seconds: number;
}

export const REFERENCE_BATCH = 32;

export function runOne(opts: RunOptions, train: Data, validation: Data): RunResult {
  const { norm, batchSize, examples, baseLr, momentum, seed } = opts;
  const start = performance.now();
  const model = normNetwork({ norm, seed, momentum });
  const steps = Math.max(1, Math.floor(examples / batchSize));
  const lr = (baseLr * batchSize) / REFERENCE_BATCH;
  const losses: number[] = [];
  const history = fit(model, train, {
    optimizer: new Adam({ learningRate: lr }),
    loss: softmaxCrossEntropyWithLogits,
    batchSize,
    steps,
    seed,
    dropLast: true,
    callbacks: [{
      onStepEnd: ({ step, loss }) => {
        losses.push(loss);
        // Clipping for the next step, by the fraction of examples seen.
        if (norm === 'renorm') for (const { layer } of batchNormLayers(model)) layer.renormClipping = renormClipping(step / steps);
      },
    }],
  });
  if (history.stoppedBy !== 'completed') throw new Error(`small-batch: ${norm} at batch ${batchSize} stopped early (${history.stoppedBy})`);
  const tail = losses.slice(-Math.max(1, Math.floor(losses.length / 10)));
  const validationAccuracy = evaluate(model, validation).accuracy!;
  return {
    norm, batchSize, steps, lr, validationAccuracy,
    finalTrainingLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
    seconds: (performance.now() - start) / 1000,
  };
}
