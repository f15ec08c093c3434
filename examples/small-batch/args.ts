/** Command-line flags of the small-batch experiment (parsed like examples/mnist/args.ts). Bad flags exit with code 2. */
import { parseFlags, positiveInt, UsageError } from '../cli.js';

export { UsageError };
import { NORMS, type NormKind } from './network.js';

export interface SmallBatchArgs {
  examples: number;
  validation: number;
  batchSizes: number[];
  norms: NormKind[];
  lr: number;
  momentum: number;
  seed: number;
  out: string;
  docs: boolean;
  help: boolean;
}

export const DEFAULT_BATCH_SIZES = [2, 4, 8, 16, 32];
export const DEFAULT_EXAMPLES = 4096;
export const DEFAULT_LR = 0.001;
export const DEFAULT_MOMENTUM = 0.9;

export const USAGE = `Usage: npm run example:small-batch -- [options]   (or: npx tsx examples/small-batch.ts [options])

Trains the lesson network (19 conv layers) with each normalization at each
batch size over the same number of training examples, then prints a
validation-accuracy table and writes out/small-batch.svg.

Options:
  --examples <n>       training examples seen by every run (default ${DEFAULT_EXAMPLES})
  --validation <n>     validation images scored per run (default 1000, at most 1000)
  --batch-sizes <list> comma-separated batch sizes, each >= 2 (default ${DEFAULT_BATCH_SIZES.join(',')})
  --norms <list>       comma-separated, from ${NORMS.join(', ')} (default all)
  --lr <x>             Adam learning rate at batch 32, scaled linearly with the
                       batch size (default ${DEFAULT_LR})
  --momentum <x>       BN moving-average momentum, weight of the old value, in
                       [0, 1) (default ${DEFAULT_MOMENTUM})
  --seed <n>           seed for the split, the shuffles and the weights (default 1)
  --out <dir>          where the chart is written (default out)
  --docs               also copy the chart to docs/images/small-batch.svg
  -h, --help           show this help`;

function list(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`${flag} needs a comma-separated list, got '${text}'`);
  if (new Set(items).size !== items.length) throw new UsageError(`${flag} lists a value twice: '${text}'`);
  return items;
}

export function parseSmallBatchArgs(argv: readonly string[]): SmallBatchArgs {
  const parsed = parseFlags(argv, {
    examples: { type: 'string' },
    validation: { type: 'string' },
    'batch-sizes': { type: 'string' },
    norms: { type: 'string' },
    lr: { type: 'string' },
    momentum: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'out' },
    docs: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const v = parsed.values;
  const batchSizes = v['batch-sizes'] === undefined ? [...DEFAULT_BATCH_SIZES] : list('--batch-sizes', v['batch-sizes']).map((s) => positiveInt('--batch-sizes', s));
  if (batchSizes.some((b) => b < 2)) throw new UsageError('--batch-sizes must all be at least 2: batch norm needs 2 values per channel');
  batchSizes.sort((a, b) => a - b);
  const norms = v.norms === undefined ? [...NORMS] : list('--norms', v.norms).map((s) => {
    if (!(NORMS as readonly string[]).includes(s)) throw new UsageError(`--norms: unknown normalization '${s}' (choose from ${NORMS.join(', ')})`);
    return s as NormKind;
  });
  const examples = v.examples === undefined ? DEFAULT_EXAMPLES : positiveInt('--examples', v.examples);
  const largest = batchSizes[batchSizes.length - 1]!;
  if (examples < largest) throw new UsageError(`--examples ${examples} is smaller than the largest batch size ${largest}`);
  const validation = v.validation === undefined ? 1000 : positiveInt('--validation', v.validation);
  if (validation > 1000) throw new UsageError(`--validation is at most 1000 (the validation split), got ${validation}`);
  const lr = v.lr === undefined ? DEFAULT_LR : Number(v.lr);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`--lr needs a positive number, got '${v.lr}'`);
  const momentum = v.momentum === undefined ? DEFAULT_MOMENTUM : Number(v.momentum);
  if (!(momentum >= 0 && momentum < 1)) throw new UsageError(`--momentum needs a number in [0, 1), got '${v.momentum}'`);
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed needs a non-negative integer, got '${v.seed}'`);
  return { examples, validation, batchSizes, norms, lr, momentum, seed, out: v.out!, docs: v.docs!, help: v.help! };
}
