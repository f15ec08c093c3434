/**
 * `npm run example:small-batch`: when batch norm fails. Trains the lesson
 * network with BatchNorm, BatchNorm + renorm, GroupNorm and LayerNorm at
 * batch sizes 2 to 32 over the same number of examples, prints the
 * validation accuracies and writes out/small-batch.svg
 * (docs/when-batch-norm-fails.md explains the result).
 *
 * Exit codes: 0 done, 1 a run failed, 2 bad flags.
 */
import { runCommand } from './cli.js';
import { USAGE, parseSmallBatchArgs, type SmallBatchArgs } from './small-batch/args.js';
import { DOCS_CHART, runSmallBatch } from './small-batch/experiment.js';

/** Runs the experiment and prints the table; returns the exit code. */
async function main(args: SmallBatchArgs): Promise<number> {
  const start = performance.now();
  const { table, chartFile } = await runSmallBatch(args);
  console.log(`\nValidation accuracy (inference mode), ${args.examples} training examples per run:\n\n${table}\n`);
  console.log(`Chart written to ${chartFile}${args.docs ? ` and copied to ${DOCS_CHART}` : ''}`);
  console.log(`Total wall time ${((performance.now() - start) / 1000).toFixed(0)} s`);
  return 0;
}

await runCommand('small-batch', USAGE, parseSmallBatchArgs, main);
