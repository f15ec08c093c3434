/**
 * What every example's command line shares: strict flag parsing whose errors
 * are UsageErrors (the examples print them with the usage text and exit 2),
 * and the positive-integer check of counts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** A bad flag or value: the example prints its message with the usage and exits with code 2. */
export class UsageError extends Error {}

type StrictConfig<O extends FlagOptions> = { args: string[]; strict: true; allowPositionals: false; options: O };

/** `argv` parsed strictly against `options` (no positionals); an unknown flag or a missing value is a UsageError. */
export function parseFlags<const O extends FlagOptions>(argv: readonly string[], options: O): ReturnType<typeof parseArgs<StrictConfig<O>>> {
  try {
    return parseArgs<StrictConfig<O>>({ args: [...argv], strict: true, allowPositionals: false, options });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `text` as a positive integer, `fallback` when the flag was not given; anything else is a UsageError naming `flag`. */
export function positiveInt(flag: string, text: string | undefined, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback;
  const v = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(v) || v < 1) {
    throw new UsageError(`${flag} needs a positive integer, got '${text}'`);
  }
  return v;
}
