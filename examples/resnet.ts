/**
 * `npm run example:resnet`: a small residual CNN on the MNIST digits.
 *   npm run example:resnet                     3 epochs, then validation and test accuracy
 *   npm run example:resnet -- --epochs 5       longer
 *   npm run example:resnet -- --save r.safetensors
 *   npm run example:resnet -- --help           every flag
 *
 * The network (examples/resnet/model.ts) is a Sequential whose middle is
 * three ResidualBlock layers (examples/resnet/residual-block.ts): a Layer
 * subclass holding its convs and batch norms in fields, found automatically
 * by parameters(), stateDict(), checkpoints and summary().
 *
 * Exit codes: 0 done, 1 a run failed (one line on stderr says why), 2 bad
 * flags, 130 Ctrl-C (training stops after the current batch and --save is
 * still written; a second Ctrl-C quits at once).
 */
import { saveCheckpoint } from '../src/node.js';
import { EXIT_INTERRUPTED, interruptSignal, runCommand } from './cli.js';
import { createProgress } from './mnist/progress.js';
import { USAGE, UsageError, checkSavePath, parseResnetArgs, type ResnetArgs } from './resnet/args.js';
import { buildResnet } from './resnet/model.js';
import { accuracy, loadSplits, totalBatches, trainResnet } from './resnet/train.js';

/** Returns the exit code. */
async function main(args: ResnetArgs): Promise<number> {
  checkSavePath(args.save);
  const signal = interruptSignal();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const splits = loadSplits(args.seed);
  const trainCount = splits.train.x.shape[0]!;
  if (args.batchSize > trainCount) throw new UsageError(`--batch-size ${args.batchSize} is larger than the ${trainCount} training images`);
  console.log(`MNIST from the 'mnist' package: ${trainCount} train / ${splits.validation.x.shape[0]} validation / ${splits.test.x.shape[0]} test images (seed ${args.seed})\n`);

  const model = buildResnet({ seed: args.seed });
  console.log(model.summary({ inputShape: [28, 28, 1] }));

  const total = totalBatches(trainCount, args);
  console.log(`\nTraining: ${total} batches of ${args.batchSize}, Adam lr ${args.lr}, seed ${args.seed}`);
  const progress = createProgress(total, 'resnet');
  let result;
  try {
    result = await trainResnet(model, splits, { ...args, signal, onBatch: progress.update, onLog: progress.log });
  } finally {
    progress.stop();
  }
  const { history, optimizer } = result;
  const interrupted = history.stoppedBy === 'signal';
  if (interrupted) console.log(`Interrupted after batch ${history.steps.length} of ${total}`);
  if (args.save) {
    saveCheckpoint(model, args.save, { optimizer });
    console.log(`Saved checkpoint to ${args.save}`);
  }
  if (interrupted) return EXIT_INTERRUPTED;

  console.log(`Validation accuracy ${accuracy(model, splits.validation).toFixed(4)}`);
  console.log(`Test accuracy ${accuracy(model, splits.test).toFixed(4)}`);
  const cpu = process.cpuUsage(cpuStart);
  console.log(`Wall time ${((performance.now() - start) / 1000).toFixed(1)} s (CPU time ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`);
  return 0;
}

await runCommand('resnet', USAGE, parseResnetArgs, main);
