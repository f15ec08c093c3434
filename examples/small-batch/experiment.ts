/**
 * The whole experiment: every normalization at every batch size, one line of
 * progress per run, then the table and the chart. Kept apart from the
 * command line so the test can run a tiny configuration in-process.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mnistSplit, mnistTensors } from '../../src/node.js';
import type { SmallBatchArgs } from './args.js';
import { smallBatchChartSvg } from './chart.js';
import { NORM_LABELS, type NormKind } from './network.js';
import { runOne, type Data, type RunResult } from './run.js';

export interface SmallBatchResult {
  runs: RunResult[];
  table: string;
  chartFile: string;
}

export const DOCS_CHART = join('docs', 'images', 'small-batch.svg');

/** Markdown table: one row per normalization, one column per batch size. */
export function accuracyTable(runs: readonly RunResult[], norms: readonly NormKind[], batchSizes: readonly number[]): string {
  const header = `| normalization | ${batchSizes.map((b) => `batch ${b}`).join(' | ')} |`;
  const rule = `|---|${batchSizes.map(() => '---').join('|')}|`;
  const rows = norms.map((norm) => {
    const cells = batchSizes.map((b) => {
      const r = runs.find((x) => x.norm === norm && x.batchSize === b);
      return r ? r.validationAccuracy.toFixed(3) : '-';
    });
    return `| ${NORM_LABELS[norm]} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

export async function runSmallBatch(args: SmallBatchArgs, log: (line: string) => void = console.log): Promise<SmallBatchResult> {
  const { train, validation } = mnistSplit({ seed: args.seed, validationSize: args.validation });
  const trainData: Data = mnistTensors(train);
  const validationData: Data = mnistTensors(validation);
  log(`MNIST from the 'mnist' package: ${train.count} train / ${validation.count} validation images (seed ${args.seed})`);
  log(`Each run: ${args.examples} training examples; Adam lr ${args.lr} x batch/32; BN momentum ${args.momentum}`);
  const runs: RunResult[] = [];
  const total = args.norms.length * args.batchSizes.length;
  for (const norm of args.norms) {
    for (const batchSize of args.batchSizes) {
      const r = runOne({ norm, batchSize, examples: args.examples, baseLr: args.lr, momentum: args.momentum, seed: args.seed }, trainData, validationData);
      runs.push(r);
      log(`[${String(runs.length).padStart(2)}/${total}] ${NORM_LABELS[norm].padEnd(18)} batch ${String(batchSize).padStart(3)}: ` +
        `${r.steps} steps, lr ${r.lr.toPrecision(3)}, final training loss ${r.finalTrainingLoss.toFixed(4)}, ` +
        `validation accuracy ${r.validationAccuracy.toFixed(3)} (${r.seconds.toFixed(1)} s)`);
    }
  }
  const table = accuracyTable(runs, args.norms, args.batchSizes);
  const points = runs.map((r) => ({ norm: NORM_LABELS[r.norm], batchSize: r.batchSize, accuracy: r.validationAccuracy }));
  const svg = await smallBatchChartSvg(points, `MNIST, 19 conv layers: validation accuracy after ${args.examples} training examples`);
  mkdirSync(args.out, { recursive: true });
  const chartFile = join(args.out, 'small-batch.svg');
  writeFileSync(chartFile, svg);
  if (args.docs) {
    mkdirSync(dirname(DOCS_CHART), { recursive: true });
    copyFileSync(chartFile, DOCS_CHART);
  }
  return { runs, table, chartFile };
}
