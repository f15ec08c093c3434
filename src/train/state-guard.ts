/**
 * fit's non-finite guard over everything a training step writes: the
 * parameters (optimizer update), the optimizer's slots (Adam's m and v), and
 * the moving statistics (BN's training call).
 *
 *   before a step:  copy those arrays (`save`; the copies are reused)
 *   after it:       one read-only pass over the same arrays (`firstNonFinite`)
 *   on NaN or ±Inf: put every copy back (`restore`), so the model and the
 *                   optimizer hold their last finite state again
 *
 * fit also checks once before the first step, so "the state before this
 * step" is always a finite one (a checkpoint with a NaN in an Adam slot is
 * refused before it can train). An optimizer without saveState, restoreState
 * and slotArrays (a hand-written StepOptimizer) has its parameters guarded,
 * not its own state.
 */
import type { Tensor } from '../tensor/tensor.js';

/** What the guard needs of a model: the arrays a step writes, and names for the error message. */
export interface GuardedModel {
  parameters(): Tensor[];
  buffers(): Map<string, Tensor>;
  stateDict?(): Map<string, Tensor>;
}

/** What the guard uses of an optimizer when present (the Optimizer base class has both). */
export interface GuardedOptimizer {
  /** Copies the slots, so restoreState can bring them back if the step fails. */
  saveState?(): void;
  /** Puts back the slots saveState copied. */
  restoreState?(): void;
  /** Every slot array, by checkpoint name, for the non-finite check. */
  slotArrays?(paramNames: Map<Tensor, string>): Iterable<[string, Float32Array]>;
}

/** The first tensor holding a NaN or an infinity: its checkpoint name, how many values, and the first one. */
export interface NonFiniteTensor {
  /** Checkpoint name of the tensor (`conv1/kernel`, `optimizer/adam/conv1/kernel/m`). */
  name: string;
  /** How many of its values are NaN or infinite. */
  count: number;
  /** How many values it has. */
  size: number;
  /** The first non-finite value. */
  value: number;
}

/** Where optimizer state lives in a checkpoint (checkpoint.ts's OPTIMIZER_PREFIX). */
const OPTIMIZER_PREFIX = 'optimizer/';

export class StateGuard {
  private copies = new Map<Tensor, Float32Array>();
  private optimizerSaved = false;
  // Checkpoint names and their order, from stateDict (a tree walk: computed
  // again only when a step writes a tensor it does not name).
  private names = new Map<Tensor, string>();
  private rank = new Map<string, number>();

  constructor(private readonly model: GuardedModel, private readonly optimizer: GuardedOptimizer) {
    this.refreshNames();
  }

  private refreshNames(): void {
    this.names = new Map();
    this.rank = new Map();
    for (const [name, t] of this.model.stateDict?.() ?? []) {
      this.names.set(t, name);
      this.rank.set(name, this.rank.size);
    }
  }

  /** The tensors a step writes (parameters and moving statistics), by checkpoint name, in stateDict order. */
  private written(): [string, Tensor][] {
    const tensors = new Map<Tensor, string>();
    this.model.parameters().forEach((t, i) => tensors.set(t, `parameter ${i}`));
    for (const [name, t] of this.model.buffers()) tensors.set(t, name);
    if (this.model.stateDict && [...tensors.keys()].some((t) => !this.names.has(t))) this.refreshNames();
    const named: [string, Tensor][] = [...tensors].map(([t, fallback]) => [this.names.get(t) ?? fallback, t]);
    const last = this.rank.size;
    return named.sort((a, b) => (this.rank.get(a[0]) ?? last) - (this.rank.get(b[0]) ?? last));
  }

  /** Copies what the next step may write (reusing the copies' memory) and the optimizer's state. */
  save(): void {
    const next = new Map<Tensor, Float32Array>();
    for (const [, t] of this.written()) {
      const old = this.copies.get(t);
      const copy = old !== undefined && old.length === t.data.length ? old : new Float32Array(t.data.length);
      copy.set(t.data);
      next.set(t, copy);
    }
    this.copies = next;
    this.optimizerSaved = typeof this.optimizer.saveState === 'function' && typeof this.optimizer.restoreState === 'function';
    if (this.optimizerSaved) this.optimizer.saveState!();
  }

  /** Puts back everything `save` copied. */
  restore(): void {
    for (const [t, copy] of this.copies) t.data.set(copy);
    if (this.optimizerSaved) this.optimizer.restoreState!();
  }

  /** One pass over the written arrays, model first (stateDict order), then the optimizer's slots; null if all are finite. */
  firstNonFinite(): NonFiniteTensor | null {
    for (const [name, t] of this.written()) {
      const bad = nonFinite(name, t.data);
      if (bad) return bad;
    }
    for (const [name, values] of this.optimizer.slotArrays?.(this.names) ?? []) {
      const bad = nonFinite(OPTIMIZER_PREFIX + name, values);
      if (bad) return bad;
    }
    return null;
  }
}

/**
 * v - v is 0 for every finite v and NaN for NaN and ±Infinity: one subtraction
 * per value in a plain loop (every(Number.isFinite) is ~10x slower). The
 * count and first value are only gathered once something is wrong.
 */
function nonFinite(name: string, values: Float32Array): NonFiniteTensor | null {
  let i = 0;
  for (; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) break;
  }
  if (i === values.length) return null;
  let count = 0;
  for (let j = i; j < values.length; j++) if (values[j]! - values[j]! !== 0) count++;
  return { name, count, size: values.length, value: values[i]! };
}

/** True unless some value is NaN or ±Infinity. */
export function allFinite(values: Float32Array): boolean {
  return nonFinite('', values) === null;
}
