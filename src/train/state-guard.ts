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
 * refused before it can train). An optimizer without `saveState`/`slotArrays`
 * (a hand-written StepOptimizer) has its parameters guarded, not its state.
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
  saveState?(): () => void;
  slotArrays?(paramNames: Map<Tensor, string>): Iterable<[string, Float32Array]>;
}

/** The first tensor holding a NaN or an infinity: its checkpoint name, how many values, and the first one. */
export interface NonFiniteTensor {
  name: string;
  count: number;
  size: number;
  value: number;
}

/** Where optimizer state lives in a checkpoint (checkpoint.ts's OPTIMIZER_PREFIX). */
const OPTIMIZER_PREFIX = 'optimizer/';

export class StateGuard {
  private copies = new Map<Tensor, Float32Array>();
  private restoreOptimizer: (() => void) | null = null;

  constructor(private readonly model: GuardedModel, private readonly optimizer: GuardedOptimizer) {}

  /** The tensors a step writes, by checkpoint name (parameters and moving statistics, in stateDict order). */
  private written(): { tensors: [string, Tensor][]; names: Map<Tensor, string> } {
    const names = new Map<Tensor, string>();
    for (const [name, t] of this.model.stateDict?.() ?? []) names.set(t, name);
    const seen = new Set<Tensor>();
    const tensors: [string, Tensor][] = [];
    const add = (t: Tensor, fallback: string): void => {
      if (seen.has(t)) return;
      seen.add(t);
      tensors.push([names.get(t) ?? fallback, t]);
    };
    this.model.parameters().forEach((t, i) => add(t, `parameter ${i}`));
    for (const [name, t] of this.model.buffers()) add(t, name);
    const order = [...names.values()];
    const rank = (name: string): number => {
      const i = order.indexOf(name);
      return i < 0 ? order.length : i;
    };
    tensors.sort((a, b) => rank(a[0]) - rank(b[0]));
    return { tensors, names };
  }

  /** Copies what the next step may write (reusing the copies' memory) and the optimizer's state. */
  save(): void {
    const next = new Map<Tensor, Float32Array>();
    for (const [, t] of this.written().tensors) {
      const old = this.copies.get(t);
      const copy = old !== undefined && old.length === t.data.length ? old : new Float32Array(t.data.length);
      copy.set(t.data);
      next.set(t, copy);
    }
    this.copies = next;
    this.restoreOptimizer = this.optimizer.saveState?.() ?? null;
  }

  /** Puts back everything `save` copied. */
  restore(): void {
    for (const [t, copy] of this.copies) t.data.set(copy);
    this.restoreOptimizer?.();
  }

  /** One pass over the written arrays, model first (stateDict order), then the optimizer's slots; null if all are finite. */
  firstNonFinite(): NonFiniteTensor | null {
    const { tensors, names } = this.written();
    for (const [name, t] of tensors) {
      const bad = nonFinite(name, t.data);
      if (bad) return bad;
    }
    for (const [name, values] of this.optimizer.slotArrays?.(names) ?? []) {
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
