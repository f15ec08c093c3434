/**
 * An optimizer's per-parameter state (slots such as Adam's m and v) and the
 * reading of a saved state dict back into it. The names are
 * `<prefix>/step` ([1]) and `<prefix>/<paramName>/<slot>`; `readOptimizerState`
 * checks every name, shape and counter before anything is replaced, so a bad
 * checkpoint throws listing its problems and leaves the optimizer as it was.
 */
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * How a slot is shaped: 'element' holds one value per parameter element (m, v),
 * 'counter' a single count stored as a [1] tensor (Adam's per-parameter step).
 */
export type SlotKind = 'element' | 'counter';

/** One parameter's slots by name, e.g. `{ m, v, step }` for Adam. */
export type Slots<S extends string> = Record<S, Float32Array>;

/** What reading a state dict needs to know of the optimizer. */
export interface SlotLayout<S extends string> {
  /** Used in error messages ('Adam'). */
  readonly displayName: string;
  /** Used in state-dict names ('adam'). */
  readonly prefix: string;
  readonly slotKinds: Readonly<Record<S, SlotKind>>;
  readonly slotList: readonly S[];
}

/** At most this many problems are listed in one loadStateDict error. */
const MAX_LISTED_PROBLEMS = 10;

/** The shape a slot is saved with: [1] for a counter, the parameter's shape otherwise. */
export function slotShape<S extends string>(layout: SlotLayout<S>, slot: S, p: Tensor): readonly number[] {
  return layout.slotKinds[slot] === 'counter' ? [1] : p.shape;
}

/**
 * Reads saved `entries` (as produced by `Optimizer.stateDict`) against the
 * live parameters `params` (names to tensors): the step count and fresh
 * copies of every slot. Throws listing every problem found.
 */
export function readOptimizerState<S extends string>(
  layout: SlotLayout<S>,
  entries: Map<string, Tensor>,
  params: Map<string, Tensor>,
): { step: number; slots: Map<Tensor, Slots<S>> } {
  const { displayName, slotKinds, slotList } = layout;
  const problems: string[] = [];
  const lead = `${layout.prefix}/`;
  const stepKey = `${lead}step`;
  let step: number | null = null;
  // Per parameter name, each slot seen: its copied values, or null if present but invalid.
  type Found = Partial<Record<S, Float32Array | null>>;
  const found = new Map<string, Found>();

  for (const [key, t] of entries) {
    if (!(t instanceof Tensor)) {
      problems.push(`'${key}' is not a tensor`);
      continue;
    }
    if (key === stepKey) {
      step = readCounter(key, t, problems);
      continue;
    }
    const cut = key.lastIndexOf('/');
    const name = key.slice(lead.length, cut);
    const slot = key.slice(cut + 1) as S;
    if (!key.startsWith(lead) || cut <= lead.length) {
      problems.push(`unexpected entry '${key}' (${displayName} state is named '${lead}step' and '${lead}<param>/<slot>')`);
      continue;
    }
    if (!slotList.includes(slot)) {
      problems.push(`unexpected entry '${key}': '${slot}' is not a slot of this ${displayName} (slots: ${slotList.join(', ') || 'none'})`);
      continue;
    }
    const p = params.get(name);
    if (p === undefined) {
      problems.push(`'${key}' is for '${name}', which is not a tensor of the model`);
      continue;
    }
    const expected = slotShape(layout, slot, p);
    let values: Float32Array | null = null;
    if (!sameShape(t.shape, expected)) {
      problems.push(`'${key}' has shape ${formatShape(t.shape)} but ${formatShape(expected)} is needed for parameter ${formatShape(p.shape)}`);
    } else if (slotKinds[slot] === 'element' || readCounter(key, t, problems) !== null) {
      values = Float32Array.from(t.data);
    }
    const record: Found = found.get(name) ?? {};
    record[slot] = values;
    found.set(name, record);
  }
  if (!entries.has(stepKey)) problems.push(`missing '${stepKey}'`);
  for (const [name, record] of found) {
    for (const slot of slotList) {
      if (!(slot in record)) problems.push(`missing '${lead}${name}/${slot}' (other slots of '${name}' are present)`);
    }
  }
  if (problems.length > 0) {
    const more = problems.length > MAX_LISTED_PROBLEMS ? ` (and ${problems.length - MAX_LISTED_PROBLEMS} more)` : '';
    throw new Error(`${displayName}.loadStateDict: ${problems.slice(0, MAX_LISTED_PROBLEMS).join('; ')}${more}`);
  }
  const slots = new Map<Tensor, Slots<S>>();
  for (const [name, record] of found) slots.set(params.get(name)!, record as Slots<S>); // complete and valid, checked above
  return { step: step!, slots };
}

/** A counter entry's value: a [1] tensor holding a non-negative integer. */
function readCounter(key: string, t: Tensor, problems: string[]): number | null {
  if (!sameShape(t.shape, [1])) {
    problems.push(`'${key}' has shape ${formatShape(t.shape)} but a counter is stored as [1]`);
    return null;
  }
  const n = t.data[0]!;
  if (!Number.isInteger(n) || n < 0) {
    problems.push(`'${key}' is ${n}, not a step count (a non-negative integer)`);
    return null;
  }
  return n;
}
