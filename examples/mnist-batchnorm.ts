/**
 * `npm start`: the classic batch-norm MNIST experiment.
 *   npm start                    train the 19-conv-layer lesson network with BN
 *   npm start -- --no-bn         the same network without BN (it fails to train)
 *   npm start -- --compare       both, plus an SVG chart of validation curves
 *   npm start -- --help          every flag
 *
 * Exit codes: 0 done, 1 a run failed (one line on stderr says why: an
 * unreadable --load file, a diverging --lr), 2 bad flags (including an
 * unwritable --save or --out, checked before training), 130 Ctrl-C (training
 * stops after the current batch and --save is still written; a second
 * Ctrl-C quits at once).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_INTERRUPTED, interruptSignal, runCommand } from './cli.js';
import { USAGE, parseExperimentArgs, type ExperimentArgs } from './mnist/args.js';
import { comparisonChartSvg, type ChartPoint } from './mnist/chart.js';
import { loadSplits, runExperiment, type RunResult } from './mnist/experiment.js';
import { checkBatchSize, checkOutputs } from './mnist/preflight.js';


function summaryTable(results: readonly RunResult[]): string {
  const rows = results.map((r) =>
    `| ${r.label} | ${r.validationAccuracy.toFixed(4)} | ${r.testAccuracy.toFixed(4)} | ${r.oneAtATimeAccuracy.toFixed(2)} (batch: ${r.batchOf100Accuracy.toFixed(2)}) | ${r.seconds.toFixed(1)} s |`,
  );
  return ['| run | validation accuracy | test accuracy | 100 test images one at a time | wall time |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Returns the exit code. */
async function main(args: ExperimentArgs): Promise<number> {
  checkOutputs(args);
  const signal = interruptSignal();
  const splits = loadSplits(args.seed);
  checkBatchSize(args, splits.train.x.shape[0]!);
  console.log(`MNIST from the 'mnist' package: ${splits.train.x.shape[0]} train / ${splits.validation.x.shape[0]} validation / ${splits.test.x.shape[0]} test images (seed ${args.seed})`);
  const runs = args.compare ? [true, false] : [args.batchNorm];
  const results: RunResult[] = [];
  for (const bn of runs) {
    const result = await runExperiment(args, bn, splits, signal);
    if (result.interrupted) return EXIT_INTERRUPTED;
    results.push(result);
  }
  console.log(`\n${summaryTable(results)}`);

  if (args.compare) {
    const points: ChartPoint[] = results.flatMap((r) =>
      (r.history?.validation ?? []).map((v) => ({ run: r.label, batch: v.step, accuracy: v.metrics.accuracy!, loss: v.loss })),
    );
    mkdirSync(args.out, { recursive: true });
    const file = join(args.out, 'mnist-batchnorm-compare.svg');
    writeFileSync(file, await comparisonChartSvg(points, `MNIST, 19 conv layers: with and without batch norm (${args.batches} batches of ${args.batchSize})`));
    console.log(`\nChart written to ${file}`);
  }
  return 0;
}

await runCommand('mnist-batchnorm', USAGE, parseExperimentArgs, main);
