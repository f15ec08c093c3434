import type { GradFn } from '../autograd/graph.js';
import { checkShape, formatShape, sizeOf, stridesOf, type Shape } from './shape.js';

/** Nested arrays of numbers, as accepted by `tensor()` and returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

/**
 * A tensor: a Float32Array plus a shape. Storage is always contiguous and
 * row-major, so element [i, j, k] of a [I, J, K] tensor sits at
 * `i*J*K + j*K + k` (see `strides`).
 *
 * The autograd fields (`requiresGrad`, `grad`, `gradFn`) are plain data here;
 * src/autograd fills them and installs `backward()`, so this layer never
 * imports the one above it.
 *
 * @example
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);   // shape [2, 3], strides [3, 1]
 * x.data[1 * x.strides[0] + 2 * x.strides[1]]; // 6, element [1, 2]
 * const w = tensor([0.5, -1]).requireGrad();  // a leaf that wants dL/dw
 */
export class Tensor {
  /** The values, row-major (C order), one float32 per element; writes change the tensor. */
  readonly data: Float32Array;
  /** The size of each axis (frozen); [] for a scalar. */
  readonly shape: Shape;

  /** A leaf that wants its gradient (a parameter), or an op result that depends on one. */
  requiresGrad = false;
  /** The accumulated dL/dthis of a leaf after `backward()`; same shape as this tensor. */
  grad: Tensor | null = null;
  /** How this tensor was computed, if recorded (null for leaves and under `noGrad`). */
  gradFn: GradFn | null = null;

  /**
   * Wraps `data` (not copied) as a tensor of `shape`. `data` must be a
   * Float32Array of exactly `size(shape)` values; anything else (a plain
   * array, a Float64Array) is refused rather than converted, since the
   * tensor shares the array: use `tensor(values, shape)` to copy and convert.
   */
  constructor(data: Float32Array, shape: Shape) {
    if (!(data instanceof Float32Array)) {
      const got = data === null || data === undefined ? String(data) : ((data as object).constructor?.name ?? typeof data);
      throw new Error(`Tensor: data must be a Float32Array, got ${got} (tensor(values, shape) copies and converts other arrays)`);
    }
    checkShape('Tensor', shape);
    if (data.length !== sizeOf(shape)) {
      throw new Error(`Tensor: data has ${data.length} values but shape ${formatShape(shape)} needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  private stridesMemo: readonly number[] | null = null;

  /**
   * Row-major strides, always derived from the shape: strides[last] = 1,
   * strides[i] = strides[i+1] * shape[i+1]. Computed on first use (most
   * tensors never need them; building and freezing them took ~200 ns of a
   * ~500 ns constructor).
   */
  get strides(): readonly number[] {
    return (this.stridesMemo ??= Object.freeze(stridesOf(this.shape)));
  }

  /** Number of elements: the product of the shape (1 for a scalar). */
  get size(): number {
    return this.data.length;
  }

  /** Number of axes (0 for a scalar). */
  get rank(): number {
    return this.shape.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor ${formatShape(this.shape)} has ${this.size} values, not 1`);
    return this.data[0]!;
  }

  /** The values as nested arrays (a number for a scalar). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.shape.length) return this.data[offset]!;
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[axis]!; i++) out.push(build(axis + 1, offset + i * this.strides[axis]!));
      return out;
    };
    return build(0, 0);
  }

  /** A new leaf sharing this tensor's values, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Marks this tensor as a leaf whose gradient `backward()` should compute. Returns `this`. */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** Clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /** `Tensor[2,3] [[1,2,3],[4,5,6]]`: the shape, then the values. */
  toString(): string {
    return `Tensor${formatShape(this.shape)} ${JSON.stringify(this.toArray())}`;
  }
}
