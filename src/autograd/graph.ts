/**
 * Reverse-mode automatic differentiation.
 *
 * Every differentiable op computes its forward value with a kernel, then calls
 * `record()` with a backward closure that maps dL/dy to dL/d(each input). The
 * result tensor keeps that closure and its inputs in `gradFn`, so the tensors
 * form a graph from the loss back to the parameters.
 *
 * `backward(loss)` orders that graph topologically (children before the
 * tensors they were computed from), seeds dL/dL = 1 and walks it once,
 * accumulating with `+=`: a tensor used twice receives both contributions
 * (the multivariate chain rule sums over every path).
 */
import { formatShape, sameShape, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFunction, checkTensor } from '../tensor/check.js';
import { checkOptions } from '../tensor/options.js';

/**
 * Maps dL/dy to dL/dx for each input (null where an input needs no gradient).
 * Which arrays it may write over and return: see "Who owns a gradient
 * buffer" in docs/autograd.md.
 */
export type BackwardFn = (gy: Float32Array) => readonly (Float32Array | null)[];

/** How a tensor was computed: the op's name, its inputs, and its backward closure. */
export interface GradFn {
  /** The op's name, e.g. 'matmul' (shown in errors and graph dumps). */
  readonly op: string;
  /** The tensors the op read, in the order `backward` returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** Maps the output's gradient to one gradient per input (null where an input needs none). */
  readonly backward: BackwardFn;
}

let recording = true;

/** True unless inside `noGrad`. */
export function isGradEnabled(): boolean {
  return recording;
}

/**
 * Runs `fn` without recording any op: for inference, optimizer steps and
 * moving-statistic updates. Restores the previous mode even if `fn` throws.
 *
 * @example
 * const w = tensor([2]).requireGrad();
 * const y = noGrad(() => mul(w, 3));   // computed, not recorded
 * y.gradFn;                            // null
 * y.backward();                        // throws: does not require grad
 */
export function noGrad<T>(fn: () => T): T {
  checkFunction('noGrad', fn, 'fn');
  const previous = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = previous;
  }
}

/**
 * Runs `fn` with recording on, even inside `noGrad` (restoring the previous
 * mode afterwards): for tools that read the graph of a forward pass, such as
 * the exporters' tracer.
 */
export function withGrad<T>(fn: () => T): T {
  checkFunction('withGrad', fn, 'fn');
  const previous = recording;
  recording = true;
  try {
    return fn();
  } finally {
    recording = previous;
  }
}

/**
 * Wraps an op's forward result `data` as a tensor and, when any input needs a
 * gradient and recording is on, remembers how to differentiate it.
 */
export function record(op: string, data: Float32Array, shape: Shape, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  const y = new Tensor(data, shape);
  if (recording && inputs.some((x) => x.requiresGrad)) {
    y.requiresGrad = true;
    y.gradFn = { op, inputs, backward };
  }
  return y;
}

/** Options of `backward()`: the seed gradient and whether to keep the graph. */
export interface BackwardOptions {
  /** dL/droot; defaults to 1 for a one-element root. */
  grad?: Tensor | Float32Array;
  /** Keep the graph so `backward` can run through it again (default false: it is released). */
  retainGraph?: boolean;
}

/**
 * Depth-first post-order without recursion: a node is emitted after all the
 * nodes it was computed from, so reversing the list visits each node before
 * its inputs. An explicit stack keeps 10,000-op chains off the call stack.
 */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: { node: Tensor; next: number }[] = [{ node: root, next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const inputs = frame.node.gradFn?.inputs ?? [];
    if (frame.next < inputs.length) {
      const child = inputs[frame.next++]!;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      order.push(frame.node);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Computes dL/dleaf for every leaf with `requiresGrad` that `root` depends on
 * and adds it to `leaf.grad`. Intermediate gradients live only during the
 * walk; the graph is released afterwards unless `retainGraph` is set.
 * `root.backward(opts)` is the same call. See docs/autograd.md.
 *
 * @example
 * const x = tensor([3]).requireGrad();
 * backward(mul(x, x));               // or: mul(x, x).backward()
 * x.grad!.item();                    // 6: both paths through mul add up
 * const y = tensor([[1, 2]]).requireGrad();
 * backward(mul(y, 2), { grad: tensor([[1, 1]]) }); // a non-scalar root needs a seed
 */
export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  checkTensor('backward', root, 'root');
  checkOptions('backward', opts, ['grad', 'retainGraph']);
  if (!root.requiresGrad) {
    throw new Error(`backward: tensor ${formatShape(root.shape)} does not require grad (no parameter led to it, or it was computed under noGrad)`);
  }
  let seed: Float32Array;
  if (opts.grad === undefined) {
    if (root.size !== 1) throw new Error(`backward: root ${formatShape(root.shape)} is not a scalar; pass opts.grad`);
    seed = Float32Array.of(1);
  } else {
    const g = opts.grad;
    const gShape = g instanceof Tensor ? g.shape : [g.length];
    if (g instanceof Tensor ? !sameShape(g.shape, root.shape) : g.length !== root.size) {
      throw new Error(`backward: grad ${formatShape(gShape)} does not match root ${formatShape(root.shape)}`);
    }
    seed = Float32Array.from(g instanceof Tensor ? g.data : g);
  }

  const grads = new Map<Tensor, Float32Array>([[root, seed]]);
  for (const node of topologicalOrder(root)) {
    const gy = grads.get(node);
    grads.delete(node); // free intermediate gradients as soon as they are used
    const fn = node.gradFn;
    if (fn === null) {
      if (gy !== undefined) accumulateLeaf(node, gy);
      continue;
    }
    // A node no gradient reached (its outputs' backward returned null) is released too.
    if (!opts.retainGraph) node.gradFn = released(fn.op);
    if (gy === undefined) continue;
    const gxs = fn.backward(gy);
    const kept: Float32Array[] = []; // the arrays stored for this node's inputs
    fn.inputs.forEach((x, i) => {
      const gx = gxs[i];
      if (!x.requiresGrad || gx == null) return;
      if (gx.length !== x.size) {
        throw new Error(`backward: op '${fn.op}' returned ${gx.length} gradient values for input ${i} of shape ${formatShape(x.shape)}`);
      }
      const acc = grads.get(x);
      if (acc !== undefined) {
        for (let k = 0; k < acc.length; k++) acc[k]! += gx[k]!;
      } else {
        // add returns gy for both inputs: the second one gets a copy, so += into one never changes the other.
        const own = kept.includes(gx) ? Float32Array.from(gx) : gx;
        grads.set(x, own);
        kept.push(own);
      }
    });
  }
}

/** What a used node keeps: no inputs and no closure (their memory is freed), and a clear error. */
function released(op: string): GradFn {
  return {
    op,
    inputs: [],
    backward: () => {
      throw new Error(`backward: the graph through '${op}' was already used and released; pass { retainGraph: true } to backward twice`);
    },
  };
}

/** Adds g to leaf.grad; g belongs to the walk (see BackwardFn), so the first one is kept without a copy. */
function accumulateLeaf(leaf: Tensor, g: Float32Array): void {
  if (leaf.grad === null) {
    leaf.grad = new Tensor(g, leaf.shape);
  } else {
    const acc = leaf.grad.data;
    for (let k = 0; k < acc.length; k++) acc[k]! += g[k]!;
  }
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Backpropagates from this tensor; see `backward()` in src/autograd/graph.ts. */
    backward(opts?: BackwardOptions): void;
  }
}

// Installed here so src/tensor never imports src/autograd.
Tensor.prototype.backward = function (this: Tensor, opts?: BackwardOptions): void {
  backward(this, opts);
};
