/**
 * Value checks for optimizer options, shared by SGD, Adam, AdamW and RMSprop.
 * Each throws naming the optimizer and the option, so a typo or an out-of-range
 * value fails at construction rather than as a NaN several steps later.
 */
import { checkOptions } from '../tensor/options.js';

/**
 * Throws unless every key of `opts` is one of `known` (catches typos such as
 * `lr`): `checkOptions` from src/tensor/options.ts, so the error suggests the
 * closest valid name (`beta_1` -> 'beta1').
 */
export function checkOptionNames(optimizer: string, opts: object, known: readonly string[]): void {
  checkOptions(optimizer, opts, known);
}

/** Throws unless `value` is a finite number in [lo, hi) (or [lo, hi] when `hiInclusive`). */
export function checkRange(optimizer: string, option: string, value: unknown, lo: number, hi: number, hiInclusive = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= lo && (hiInclusive ? value <= hi : value < hi);
  if (!ok) throw new Error(`${optimizer}: ${option} must be a number in [${lo}, ${hi}${hiInclusive ? ']' : ')'}, got ${String(value)}`);
  return value as number;
}

/** Throws unless `value` is a positive finite number. */
export function checkPositive(optimizer: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${optimizer}: ${option} must be a positive finite number, got ${String(value)}`);
  }
  return value;
}
