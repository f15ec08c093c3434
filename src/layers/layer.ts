/**
 * The layer contract. Every call states whether it is training:
 *
 *   layer.call(x, { isTraining: true })   // BN normalizes with batch statistics
 *                                         // and updates its moving averages
 *   layer.call(x, { isTraining: false })  // BN uses its moving averages only
 *
 * `isTraining` has no default and there is no global mode, so forgetting it
 * is a compile error (and a runtime error for JavaScript callers).
 *
 * Weights are built on the first call from the input's shape (Keras style).
 * `parameters()` are what an optimizer updates; `stateDict()` is everything
 * a checkpoint must carry, non-trainable state (moving statistics) included.
 */
import { add } from '../autograd/ops/arithmetic.js';
import { checkOptions, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import { checkTensor } from '../tensor/check.js';
import { checkPathSegment, fieldChildren, layerTree, namedTensors } from './tree.js';
import { loadState, type LoadResult, type LoadStateOptions } from './load-state.js';
import { recordOutputShape, summarize, type SummaryOptions } from './summary.js';

/** The options every `call` takes; `isTraining` is required, with no default. */
export interface CallOptions {
  /** Required: true in a training step, false for evaluation and prediction. */
  isTraining: boolean;
}

/** A weight penalty: maps a kernel to a scalar loss term (see src/optim/regularizers.ts). */
export type Regularizer = (weights: Tensor) => Tensor;

/**
 * The base of every layer and of `Sequential`. Subclasses implement
 * `forward` (and `build`, `weights`, `buffers` when they own tensors).
 *
 * A layer may hold other layers in its fields (directly, in arrays, plain
 * objects or Maps): they are its children, found automatically (see
 * src/layers/tree.ts) by `parameters()`, `stateDict()`, `loadStateDict()`,
 * freezing, the batch-norm tools and checkpoints. Their tensors are named
 * by field: `block1/conv/kernel`, `blocks/0/bn/movingMean`.
 *
 * @example
 * class Scale extends Layer {
 *   readonly kind = 'scale';
 *   factor: Tensor | null = null;
 *   constructor() { super('scale'); }
 *   protected override build(shape: Shape) { this.factor = ones([shape[shape.length - 1]!]).requireGrad(); }
 *   protected forward(x: Tensor) { return mul(x, this.factor!); }
 *   override weights() { return new Map([['factor', this.factor!]]); }
 * }
 */
export abstract class Layer {
  /** Stable name used in `stateDict()` keys and to derive initializer seeds. */
  name: string;
  /**
   * false freezes the layer and every layer below it (as Keras does: the
   * flag is set on each child too): `parameters()` leaves their weights out,
   * and a frozen BatchNorm normalizes with its moving statistics even in a
   * training call. true unfreezes them all again.
   */
  get trainable(): boolean {
    return this.isTrainable;
  }
  set trainable(flag: boolean) {
    for (const { layer } of layerTree(this)) {
      layer.isTrainable = flag;
      layer.syncRequiresGrad();
    }
  }

  /** Frozen weights stop collecting gradients (as PyTorch's requires_grad_(False)). */
  protected syncRequiresGrad(): void {
    for (const w of ownWeights(this).values()) w.requiresGrad = this.isTrainable;
  }
  private isTrainable = true;
  protected built = false;

  constructor(name: string) {
    this.name = name;
  }

  /** Short prefix used when a container names its children (`conv`, `bn`, ...). */
  abstract readonly kind: string;

  /** Runs the layer; builds its weights first if this is the first call. */
  call(x: Tensor, opts: CallOptions): Tensor {
    this.prepareCall(x, opts);
    const y = this.forward(x, opts.isTraining);
    recordOutputShape(this, y);
    return y;
  }

  /** What every call does before `forward`: checks the options and builds the weights on the first call. */
  protected prepareCall(x: Tensor, opts: CallOptions): void {
    checkTensor(`${this.name}.call`, x);
    checkCallOptions(this.name, opts);
    if (!this.built) {
      // Children still named by their kind get a distinct name from their field
      // ('block1.conv1'): names seed the initializers, so two convs never start equal.
      for (const [path, child] of this.childLayers()) if (!child.isBuilt && child.name === child.kind) child.name = `${this.name}.${path.replaceAll('/', '.')}`;
      this.build(x.shape);
      this.built = true;
      this.syncRequiresGrad();
    }
  }

  /** Whether the weights exist yet (they are created by the first call), here and in every child. */
  get isBuilt(): boolean {
    return this.built && this.childLayers().every(([, child]) => child.isBuilt);
  }

  /**
   * The direct children and their names: by default the layers held in this
   * layer's own enumerable fields, directly or in arrays, plain objects and
   * Maps (`conv`, `blocks/0`, `heads/digit`). Override to name them otherwise
   * (Sequential uses each child's `name`).
   */
  childLayers(): [string, Layer][] {
    return fieldChildren(this, (v): v is Layer => v instanceof Layer, this.name);
  }

  /** Creates the weights for an input of this shape. */
  protected build(_inputShape: Shape): void {}

  /** The layer's computation; `call` has already checked the options and built the weights. */
  protected abstract forward(x: Tensor, isTraining: boolean): Tensor;

  /**
   * Trainable weights by name (kernel, bias, gamma, beta), frozen or not. A
   * leaf layer overrides this to declare its own; the default returns every
   * weight of the tree under hierarchical names (`block1/conv/kernel`), as
   * `namedWeights()` does. A layer with children that overrides it declares
   * only its own weights there; its children's are still found by the walks.
   */
  weights(): Map<string, Tensor> {
    return this.namedWeights();
  }

  /** Non-trainable state by name (BN's moving statistics): declared by a leaf, the whole tree's by default (see `weights`). */
  buffers(): Map<string, Tensor> {
    return this.namedBuffers();
  }

  /**
   * The tensors an optimizer should update: the weights of this layer and
   * every child, except those of frozen layers (or below a frozen one).
   * A tensor shared by two layers is listed once.
   */
  parameters(): Tensor[] {
    const out = new Set<Tensor>();
    for (const node of layerTree(this)) if (node.trainable) for (const w of ownWeights(node.layer).values()) out.add(w);
    return [...out];
  }

  /** Every weight in the tree, frozen or not, by hierarchical name (`block1/conv/kernel`). */
  namedWeights(): Map<string, Tensor> {
    return namedTensors(this, 'weights', ownWeights);
  }

  /** Every buffer in the tree (BN's moving statistics), by hierarchical name (`block1/bn/movingMean`). */
  namedBuffers(): Map<string, Tensor> {
    return namedTensors(this, 'buffers', ownBuffers);
  }

  /**
   * Everything needed to reproduce the model: the weights and buffers of this
   * layer and every child, by hierarchical name. Two tensors with one name are
   * an error naming both layers.
   */
  stateDict(): Map<string, Tensor> {
    return namedTensors(this, 'stateDict', (l) => new Map([...ownWeights(l), ...ownBuffers(l)]));
  }

  /**
   * Copies saved values into this model's tensors, in place, all or nothing.
   * With `strict` (the default) every name must match both ways; without it,
   * missing and unexpected names are only reported. A shape mismatch is
   * always an error. On any error the model is left unchanged.
   *
   * @example
   * const { missing, unexpected } = model.loadStateDict(other.stateDict());
   */
  loadStateDict(entries: Map<string, Tensor> | Iterable<readonly [string, Tensor]>, opts: LoadStateOptions = {}): LoadResult {
    return loadState(this, entries, opts);
  }

  /**
   * Number of scalars in the model's state: every weight (frozen or not) and
   * every buffer (BN's moving statistics), each tensor counted once.
   */
  countParams(): number {
    let n = 0;
    for (const t of this.stateDict().values()) n += t.size;
    return n;
  }

  /**
   * A Keras-like table of the model: each layer's path (indented by depth),
   * kind, output shape from its last call, and parameter count; then the
   * total, trainable and non-trainable counts (buffers and frozen weights are
   * non-trainable). An unbuilt model needs `inputShape` (without the batch
   * axis): the model is then called once on zeros with a batch of 1, under
   * noGrad and in inference mode.
   *
   * @example
   * console.log(model.summary({ inputShape: [28, 28, 1] }));
   */
  summary(opts: SummaryOptions = {}): string {
    return summarize(this, opts);
  }

  /** Sum of the weight penalties of this layer's children (a layer with its own penalty overrides this), or null if none has one. */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const [, child] of uniqueChildren(this)) {
      const term = child.regularizationLoss();
      if (term !== null) total = total === null ? term : add(total, term);
    }
    return total;
  }
}

/** The weights a layer declares itself (none unless it overrides `weights`). */
export function ownWeights(layer: Layer): Map<string, Tensor> {
  return layer.weights === Layer.prototype.weights ? new Map() : layer.weights();
}

/** The buffers a layer declares itself (none unless it overrides `buffers`). */
export function ownBuffers(layer: Layer): Map<string, Tensor> {
  return layer.buffers === Layer.prototype.buffers ? new Map() : layer.buffers();
}

/** The direct children, each layer once. */
function uniqueChildren(layer: Layer): [string, Layer][] {
  const seen = new Set<Layer>();
  return layer.childLayers().filter(([, child]) => (seen.has(child) ? false : (seen.add(child), true)));
}

/**
 * Checks a layer's options object: every key is `name` or one of `valid`
 * (an unknown key is an error with a did-you-mean suggestion), and `name`,
 * if given, is a non-empty string. Returns the name option.
 */
export function checkLayerOptions(owner: string, opts: unknown, valid: readonly string[] = []): string | undefined {
  checkOptions(owner, opts, ['name', ...valid]);
  const name = (opts as { name?: unknown } | undefined)?.name;
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new Error(`${owner}: name must be a non-empty string, got ${describe(name)}`);
  }
  if (name !== undefined) checkPathSegment(owner, name, 'name');
  return name as string | undefined;
}

/** Runtime guard for callers that bypass the type checker. */
export function checkCallOptions(name: string, opts: CallOptions | undefined): void {
  if (opts === null || typeof opts !== 'object' || typeof opts.isTraining !== 'boolean') {
    throw new Error(`${name}: call(x, { isTraining }) needs isTraining: true or false (there is no default)`);
  }
}

/** Throws unless x has the expected rank. */
export function checkRank(name: string, x: Tensor, ranks: readonly number[], hint = ''): void {
  if (!ranks.includes(x.rank)) {
    throw new Error(`${name}: expected input of rank ${ranks.join(' or ')}, got ${formatShape(x.shape)}${hint}`);
  }
}

/** The named weights of a normalization layer: its scale gamma and offset beta, each if it has one. */
export function affineWeights(gamma: Tensor | null, beta: Tensor | null): Map<string, Tensor> {
  const w = new Map<string, Tensor>();
  if (gamma) w.set('gamma', gamma);
  if (beta) w.set('beta', beta);
  return w;
}
