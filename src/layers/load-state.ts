/**
 * Loading saved values into a model's live tensors (Layer.loadStateDict).
 * All or nothing: every name and shape is checked before a single value is
 * copied, so a bad state dict leaves the model exactly as it was.
 */
import { checkOptions } from '../tensor/options.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';

/** Options of `loadStateDict`. */
export interface LoadStateOptions {
  /** true (default): a missing or unexpected name is an error. false: they are reported and skipped. */
  strict?: boolean;
}

/** What `loadStateDict` did not match: names the model has but the entries lack, and the reverse. */
export interface LoadResult {
  /** Names the model has and the entries lacked (left unchanged). */
  missing: string[];
  /** Names in the entries the model does not have (ignored). */
  unexpected: string[];
}

const MAX_LISTED = 10;

/** See `Layer.loadStateDict`. */
export function loadState(model: Layer, entries: Map<string, Tensor> | Iterable<readonly [string, Tensor]>, opts: LoadStateOptions): LoadResult {
  const op = `${model.name}.loadStateDict`;
  checkOptions(op, opts, ['strict']);
  const strict = opts.strict ?? true;
  if (typeof strict !== 'boolean') throw new Error(`${op}: strict must be true or false, got ${String(strict)}`);
  if (entries === null || typeof entries !== 'object' || typeof (entries as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new Error(`${op}: expected a Map of name -> Tensor (as stateDict() returns)`);
  }
  const saved = new Map<string, Tensor>();
  for (const entry of entries) {
    const [name, t] = entry;
    if (typeof name !== 'string' || !(t instanceof Tensor)) throw new Error(`${op}: expected entries [name, Tensor], got an entry for '${String(name)}' that is not a Tensor`);
    saved.set(name, t);
  }
  const live = model.stateDict();
  const missing = [...live.keys()].filter((n) => !saved.has(n));
  const unexpected = [...saved.keys()].filter((n) => !live.has(n));
  const problems: string[] = [];
  if (live.size === 0 && saved.size > 0) {
    problems.push('the model has no tensors yet (layers create their weights on their first call: call the model once before loading)');
  }
  if (strict) {
    problems.push(...missing.map((n) => `missing tensor '${n}'`), ...unexpected.map((n) => `unexpected tensor '${n}'`));
  }
  for (const [name, t] of live) {
    const s = saved.get(name);
    if (s !== undefined && !sameShape(s.shape, t.shape)) {
      problems.push(`'${name}' has shape ${formatShape(s.shape)} in the entries but ${formatShape(t.shape)} in the model`);
    }
  }
  if (problems.length > 0) {
    const more = problems.length > MAX_LISTED ? ` (and ${problems.length - MAX_LISTED} more)` : '';
    throw new Error(`${op}: ${problems.slice(0, MAX_LISTED).join('; ')}${more}; nothing was loaded`);
  }
  for (const [name, t] of live) {
    const s = saved.get(name);
    if (s !== undefined && s !== t) t.data.set(s.data);
  }
  return { missing, unexpected };
}
