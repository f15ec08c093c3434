/**
 * `npm run example:small-batch`: when batch norm fails. Trains the lesson
 * network with BatchNorm, BatchNorm + renorm, GroupNorm and LayerNorm at
 * batch sizes 2 to 32 over the same number of examples, prints the
 * validation accuracies and writes out/small-batch.svg
 * (docs/when-batch-norm-fails.md explains the result).
 *
 * Exit codes: 0 done, 1 a run failed, 2 bad flags.
 */
import { NonFiniteLossError } from '../src/index.js';
import { USAGE, UsageError, parseSmallBatchArgs, type SmallBatchArgs } from './small-batch/args.js';
import { DOCS_CHART, runSmallBatch } from './small-batch/experiment.js';

let args: SmallBatchArgs;
try {
  args = parseSmallBatchArgs(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`small-batch: ${e.message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
} else {
  try {
    const start = performance.now();
    const { table, chartFile } = await runSmallBatch(args);
    console.log(`\nValidation accuracy (inference mode), ${args.examples} training examples per run:\n\n${table}\n`);
    console.log(`Chart written to ${chartFile}${args.docs ? ` and copied to ${DOCS_CHART}` : ''}`);
    console.log(`Total wall time ${((performance.now() - start) / 1000).toFixed(0)} s`);
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    const hint = e instanceof NonFiniteLossError ? ' (try a smaller --lr)' : '';
    console.error(`small-batch: ${message}${hint}`);
    process.exit(1);
  }
}
