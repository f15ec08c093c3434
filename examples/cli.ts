/**
 * What every example's command line shares: strict flag parsing whose errors
 * are UsageErrors (printed with the usage text, exit 2), the positive-integer
 * check of counts, Ctrl-C handling and the one-line error exit.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NonFiniteLossError } from '../src/index.js';

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

/** The exit code of a run that Ctrl-C stopped: 128 + SIGINT, as a shell reports it. */
export const EXIT_INTERRUPTED = 130;

/** Ctrl-C aborts the signal (training stops after the current batch); a second one exits at once. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    console.error('\nInterrupted: stopping after the current batch (Ctrl-C again to quit now)');
    controller.abort();
  });
  return controller.signal;
}

/**
 * An example's command line: parses the flags (a UsageError prints the
 * message and the usage, exit 2), prints the usage for --help, else runs
 * `main` and exits with its code. Any other error is one line naming `name`
 * (the stack helps no one running an example), exit 1.
 */
export async function runCommand<A extends { help: boolean }>(
  name: string, usage: string, parse: (argv: readonly string[]) => A, main: (args: A) => Promise<number>,
): Promise<never> {
  let args: A;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${name}: ${e.message}\n\n${usage}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(usage);
    process.exit(0);
  }
  let code: number;
  try {
    code = await main(args);
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    const hint = e instanceof NonFiniteLossError ? ' (try a smaller --lr)' : '';
    console.error(`${name}: ${message}${hint}`);
    code = e instanceof UsageError ? 2 : 1;
  }
  process.exit(code);
}
