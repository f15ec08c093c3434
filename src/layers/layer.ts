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
import { checkOptions, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import { checkTensor } from '../tensor/check.js';

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
   * false freezes the layer: `parameters()` returns nothing, and a frozen
   * BatchNorm normalizes with its moving statistics even in a training call.
   */
  get trainable(): boolean {
    return this.isTrainable;
  }
  set trainable(flag: boolean) {
    this.isTrainable = flag;
    this.syncRequiresGrad();
  }

  /** Frozen weights stop collecting gradients (as PyTorch's requires_grad_(False)). */
  protected syncRequiresGrad(): void {
    for (const w of this.weights().values()) w.requiresGrad = this.isTrainable;
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
    return this.forward(x, opts.isTraining);
  }

  /** What every call does before `forward`: checks the options and builds the weights on the first call. */
  protected prepareCall(x: Tensor, opts: CallOptions): void {
    checkTensor(`${this.name}.call`, x);
    checkCallOptions(this.name, opts);
    if (!this.built) {
      this.build(x.shape);
      this.built = true;
      this.syncRequiresGrad();
    }
  }

  /** Whether the weights exist yet (they are created by the first call). */
  get isBuilt(): boolean {
    return this.built;
  }

  /** Creates the weights for an input of this shape. */
  protected build(_inputShape: Shape): void {}

  /** The layer's computation; `call` has already checked the options and built the weights. */
  protected abstract forward(x: Tensor, isTraining: boolean): Tensor;

  /** Trainable weights by name (kernel, bias, gamma, beta), frozen or not. */
  weights(): Map<string, Tensor> {
    return new Map();
  }

  /** Non-trainable state by name (BN's moving statistics). */
  buffers(): Map<string, Tensor> {
    return new Map();
  }

  /** The tensors an optimizer should update: the weights, or none when frozen. */
  parameters(): Tensor[] {
    return this.trainable ? [...this.weights().values()] : [];
  }

  /** Everything needed to reproduce the layer: weights and buffers, by name. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.weights(), ...this.buffers()]);
  }

  /** Sum of this layer's weight penalties, or null if it has none. */
  regularizationLoss(): Tensor | null {
    return null;
  }
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
