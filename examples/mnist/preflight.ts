/**
 * Checks made before any training: a run of several minutes must not end by
 * finding that its checkpoint or chart cannot be written. Each problem is a
 * UsageError (one line, exit code 2).
 */
import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, type ExperimentArgs } from './args.js';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function writableDirectory(flag: string, value: string, dir: string): void {
  const st = statOrNull(dir);
  if (st === null) throw new UsageError(`${flag} '${value}': the directory '${dir}' does not exist`);
  if (!st.isDirectory()) throw new UsageError(`${flag} '${value}': '${dir}' is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} '${value}': the directory '${dir}' is not writable`);
  }
}

/** Throws a UsageError unless --save's file and --out's directory (with --compare) can be written. */
export function checkOutputs(args: ExperimentArgs): void {
  if (args.save !== undefined) {
    const target = statOrNull(args.save);
    if (target?.isDirectory()) throw new UsageError(`--save '${args.save}' is a directory; give a file name such as '${args.save}/model.safetensors'`);
    writableDirectory('--save', args.save, dirname(args.save));
  }
  if (args.compare) {
    const out = statOrNull(args.out);
    if (out !== null && !out.isDirectory()) throw new UsageError(`--out '${args.out}' is not a directory`);
    if (out === null) {
      try {
        mkdirSync(args.out, { recursive: true });
      } catch (e) {
        throw new UsageError(`--out '${args.out}': cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    writableDirectory('--out', args.out, resolve(args.out));
  }
}

/** Throws a UsageError when a batch is larger than the training set (fit would find no batch). */
export function checkBatchSize(args: ExperimentArgs, trainCount: number): void {
  if (args.batchSize > trainCount) {
    throw new UsageError(`--batch-size ${args.batchSize} is larger than the ${trainCount} training images`);
  }
}
