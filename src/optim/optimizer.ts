/**
 * The optimizer base: one training step over a list of parameters.
 *
 *   const opt = new Adam({ learningRate: 1e-3 });
 *   loss.backward();
 *   opt.step(model.parameters());      // w -= ..., in place, under noGrad
 *   opt.zeroGrad(model.parameters());
 *
 * The parameters are passed to every `step()` rather than fixed in the
 * constructor, so freezing or unfreezing a layer (which changes what
 * `model.parameters()` returns) is picked up on the next step with no
 * re-registration. The state (slots such as Adam's m and v) is kept in a
 * `Map<Tensor, slots>` keyed by the parameter tensor itself, never on the
 * tensor: a parameter keeps its slots while frozen and resumes with them.
 *
 * Updates write `param.data` in place, so the tensor (and its Float32Array)
 * held by layers and checkpoints stays the same object.
 */
import { noGrad } from '../autograd/graph.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { clipGradients, NO_CLIPPING, type Clipping } from './clip.js';
import { readOptimizerState, slotShape, type SlotKind, type SlotLayout, type Slots } from './optimizer-state.js';
import { describeValue } from '../tensor/check.js';

// The option checks live in option-checks.ts; re-exported for the optimizers that import them from here.
export { checkOptionNames, checkPositive, checkRange } from './option-checks.js';
export type { SlotKind, Slots } from './optimizer-state.js';

/**
 * A fixed learning rate, or a schedule of the 1-based step being taken:
 * `(step) => 0.1 * 0.96 ** step`, or Keras's from schedules.ts (`cosineDecay({...})`).
 */
export type LearningRate = number | ((step: number) => number);

/**
 * Clears the gradient of every parameter (`grad = null`), since `backward()`
 * accumulates into it. Call after each step.
 */
export function zeroGrad(params: Iterable<Tensor>): void {
  if (params === null || typeof params !== 'object' || typeof (params as Partial<Iterable<Tensor>>)[Symbol.iterator] !== 'function') {
    throw new Error(`zeroGrad: expected an iterable of parameter tensors, got ${params === null ? 'null' : typeof params}`);
  }
  for (const p of params) {
    if (!(p instanceof Tensor)) throw new Error(`zeroGrad: expected parameter tensors, got ${p === null ? 'null' : typeof p}`);
    p.grad = null;
  }
}

/**
 * Base class of SGD, Adam, AdamW and RMSprop. A subclass declares its slots and
 * writes `update()`, the per-parameter arithmetic over Float32Arrays; this
 * class handles the step counter, the learning-rate schedule, gradient
 * clipping, validation, and the checkpoint format `<prefix>/step`, `<prefix>/<paramName>/<slot>`.
 */
export abstract class Optimizer<S extends string = string> {
  /** Steps taken so far (Keras's `iterations`). */
  get iterations(): number {
    return this.stepCount;
  }

  /** The learning rate as given: a number or a schedule. */
  readonly learningRate: LearningRate;

  /** Gradient clipping applied before every update (clipNorm, globalClipNorm, clipValue; see clip.ts). */
  readonly clipping: Clipping;

  private stepCount = 0;
  private slots = new Map<Tensor, Slots<S>>();
  private readonly slotList: S[];
  private readonly layout: SlotLayout<S>;

  /**
   * @param displayName used in error messages ('Adam')
   * @param prefix used in state-dict names ('adam')
   * @param slotKinds the slots each parameter gets; empty for plain SGD
   * @param clipping gradient clipping (read with `readClipping`), none by default
   */
  protected constructor(
    protected readonly displayName: string,
    protected readonly prefix: string,
    private readonly slotKinds: Readonly<Record<S, SlotKind>>,
    learningRate: LearningRate,
    clipping: Clipping = NO_CLIPPING,
  ) {
    if (typeof learningRate !== 'function' && !(typeof learningRate === 'number' && Number.isFinite(learningRate) && learningRate > 0)) {
      throw new Error(`${displayName}: learningRate must be a positive finite number or a function of the step, got ${String(learningRate)}`);
    }
    this.learningRate = learningRate;
    this.clipping = clipping;
    this.slotList = Object.keys(slotKinds) as S[];
    this.layout = { displayName, prefix, slotKinds, slotList: this.slotList };
  }

  /**
   * The per-parameter update, run under noGrad. `w`, `g` and the slots are
   * the parameter's value, its gradient and its state, all of one length
   * (counter slots have length 1); `lr` is this step's learning rate; `param`
   * is the tensor being updated (for per-parameter choices such as AdamW's
   * exclusions). `g` is already clipped.
   */
  protected abstract update(w: Float32Array, g: Float32Array, slots: Slots<S>, lr: number, param: Tensor): void;

  /**
   * Takes one step: for each parameter with a gradient, updates its data in
   * place from `param.grad`; parameters whose grad is null are skipped (their
   * slots are kept). Repeated tensors are updated once. Every gradient's
   * shape is checked before any parameter changes. Clipping, if set, acts on
   * copies of the gradients of this step's parameters (globalClipNorm takes
   * the norm over exactly those).
   *
   * A step that updates nothing (an empty list, e.g. a fully frozen model,
   * or no parameter with a gradient) changes nothing and is not counted:
   * `iterations` counts steps that updated at least one parameter, so a
   * learning-rate schedule never skips ahead. Calling `step()` without a
   * list of tensors is an error.
   */
  step(params: Iterable<Tensor>): void {
    if (params === null || typeof params !== 'object' || typeof (params as Partial<Iterable<Tensor>>)[Symbol.iterator] !== 'function') {
      throw new Error(`${this.displayName}.step: expected the parameters to update, e.g. opt.step(model.parameters()), got ${params === null ? 'null' : typeof params}`);
    }
    const todo: Tensor[] = [];
    for (const p of new Set(params)) {
      if (!(p instanceof Tensor)) throw new Error(`${this.displayName}.step: expected parameter tensors, got ${typeof p}`);
      if (p.grad === null) continue;
      if (!sameShape(p.grad.shape, p.shape)) {
        throw new Error(`${this.displayName}.step: gradient ${formatShape(p.grad.shape)} does not match parameter ${formatShape(p.shape)}`);
      }
      todo.push(p);
    }
    if (todo.length === 0) return; // nothing to update: not a step
    const t = this.stepCount + 1;
    const lr = this.learningRateAt(t);
    const grads = clipGradients(todo.map((p) => p.grad!.data), this.clipping);
    noGrad(() => {
      todo.forEach((p, i) => this.update(p.data, grads[i]!, this.slotsOf(p), lr, p));
    });
    this.stepCount = t;
  }

  /** Clears the gradients of `params` (see the `zeroGrad` function). */
  zeroGrad(params: Iterable<Tensor>): void {
    zeroGrad(params);
  }

  /** The learning rate used by the given 1-based step (a schedule is evaluated under noGrad). */
  learningRateAt(step: number): number {
    if (typeof this.learningRate === 'number') return this.learningRate;
    const schedule = this.learningRate;
    const lr = noGrad(() => schedule(step));
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new Error(`${this.displayName}: the learningRate schedule returned ${String(lr)} for step ${step}; it must return a finite number >= 0`);
    }
    return lr;
  }

  /**
   * The optimizer's state as named tensors (copies): `<prefix>/step` ([1]) and
   * `<prefix>/<paramName>/<slot>` for every parameter it has slots for, named
   * through `paramNames` (e.g. 'adam/dense1/kernel/m'). Counters are float32,
   * exact up to 2^24 steps. Throws if a parameter with slots has no name,
   * rather than silently dropping its state.
   */
  stateDict(paramNames: Map<Tensor, string>): Map<string, Tensor> {
    const out = new Map<string, Tensor>([[`${this.prefix}/step`, new Tensor(Float32Array.of(this.stepCount), [1])]]);
    for (const [p, slots] of this.slots) {
      const name = paramNames.get(p);
      if (name === undefined) {
        throw new Error(`${this.displayName}.stateDict: a parameter ${formatShape(p.shape)} with optimizer state has no name in paramNames (is it part of the model being saved?)`);
      }
      for (const slot of this.slotList) {
        out.set(`${this.prefix}/${name}/${slot}`, new Tensor(Float32Array.from(slots[slot]), slotShape(this.layout, slot, p)));
      }
    }
    return out;
  }

  /**
   * Replaces the state with saved `entries` (as produced by `stateDict`);
   * `params` maps names to the live parameter tensors. Every name, shape and
   * counter is checked first; on any problem it throws, listing them, and
   * changes nothing. Parameters without entries start with fresh slots.
   */
  loadStateDict(entries: Map<string, Tensor>, params: Map<string, Tensor>): void {
    if (!(entries instanceof Map) || !(params instanceof Map)) {
      throw new Error(`${this.displayName}.loadStateDict: expected (entries, params) as two Maps from names to tensors, got ${describeValue(entries)} and ${describeValue(params)}`);
    }
    const { step, slots } = readOptimizerState(this.layout, entries, params);
    this.slots = slots;
    this.stepCount = step;
  }

  // What saveState copied, for restoreState (declared here, beside them).
  private savepoint: { stepCount: number; slots: Map<Tensor, Slots<S>> } | null = null;

  /**
   * Copies the step count and every slot into a savepoint (one per optimizer;
   * its memory is reused from call to call); `restoreState()` puts it back.
   * With `slotArrays`, what a caller needs to undo a step that went wrong:
   * fit does this when a step leaves a NaN or an infinity behind.
   */
  saveState(): void {
    const old = this.savepoint?.slots;
    const slots = new Map<Tensor, Slots<S>>();
    for (const [p, live] of this.slots) {
      const reuse = old?.get(p);
      const copy = {} as Slots<S>;
      for (const slot of this.slotList) {
        const r = reuse?.[slot];
        copy[slot] = r !== undefined && r.length === live[slot].length ? r : new Float32Array(live[slot].length);
        copy[slot].set(live[slot]);
      }
      slots.set(p, copy);
    }
    this.savepoint = { stepCount: this.stepCount, slots };
  }

  /** Puts back the state copied by the last `saveState()` (slots created since are dropped); throws if there is none. */
  restoreState(): void {
    const saved = this.savepoint;
    if (saved === null) throw new Error(`${this.displayName}.restoreState: saveState() was never called`);
    this.stepCount = saved.stepCount;
    const next = new Map<Tensor, Slots<S>>();
    for (const [p, copy] of saved.slots) {
      // Write into the live arrays where they still exist, so no one holds a stale view.
      const live = this.slots.get(p);
      if (live === undefined) {
        const fresh = {} as Slots<S>;
        for (const slot of this.slotList) fresh[slot] = copy[slot].slice();
        next.set(p, fresh);
      } else {
        for (const slot of this.slotList) live[slot].set(copy[slot]);
        next.set(p, live);
      }
    }
    this.slots = next;
  }

  /**
   * The live slot arrays (views, not copies), named as in `stateDict`
   * (`adam/dense1/kernel/m`); a parameter missing from `paramNames` is named
   * by its shape (`adam/?[3,4]/m`). For checks between steps.
   */
  *slotArrays(paramNames: Map<Tensor, string>): Generator<[string, Float32Array]> {
    for (const [p, slots] of this.slots) {
      const name = paramNames.get(p) ?? `?${formatShape(p.shape)}`;
      for (const slot of this.slotList) yield [`${this.prefix}/${name}/${slot}`, slots[slot]];
    }
  }

  /** The slots of `p`, created (zero-filled) on its first update. */
  private slotsOf(p: Tensor): Slots<S> {
    let s = this.slots.get(p);
    if (s === undefined) {
      s = {} as Slots<S>;
      for (const slot of this.slotList) s[slot] = new Float32Array(this.slotKinds[slot] === 'counter' ? 1 : p.size);
      if (this.slotList.length > 0) this.slots.set(p, s);
    }
    return s;
  }
}
