/**
 * Composite layers: a Layer subclass holding children in its fields. The
 * reference is the same network written "flat": one layer that keeps its
 * sublayers in an ES #private field (never discovered) and declares all
 * their tensors itself through weights()/buffers(), the way a model had to be
 * written before children were tracked. Both run the same ops in the same
 * order, so every comparison below is bit for bit unless a tolerance is named.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, BatchNorm, batchNormReport, fit, Conv2d, Dense, Flatten, Layer, ReLU, Sequential, Tensor, add, backward, batchNormLayers, foldBatchNorm,
  fromBytes, leafLayers, namedLayers, randomNormal, recomputeBatchNormStatistics, relu, softmaxCrossEntropyWithLogits, toBytes,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

class ResidualBlock extends Layer {
  readonly kind = 'residual';
  conv1: Conv2d;
  bn1: BatchNorm;
  conv2: Conv2d;
  bn2: BatchNorm;
  constructor(filters: number, name = 'residual') {
    super(name);
    this.conv1 = new Conv2d(filters, 3, { padding: 'same', useBias: false });
    this.bn1 = new BatchNorm();
    this.conv2 = new Conv2d(filters, 3, { padding: 'same', useBias: false });
    this.bn2 = new BatchNorm();
  }
  protected forward(x: Tensor, isTraining: boolean): Tensor {
    const o = { isTraining };
    const y = relu(this.bn1.call(this.conv1.call(x, o), o));
    return relu(add(x, this.bn2.call(this.conv2.call(y, o), o)));
  }
  batchNormPairs(): [string, string][] {
    return [['conv1', 'bn1'], ['conv2', 'bn2']];
  }
}

const composite = (): Sequential =>
  new Sequential([new Conv2d(3, 3, { padding: 'same', useBias: false }), new BatchNorm(), new ReLU(), new ResidualBlock(3, 'block1'), new Flatten(), new Dense(4)]);

/** The same network with the tree hidden from the walker: it declares every tensor itself. */
class FlatNet extends Layer {
  readonly kind = 'flat';
  readonly #parts = [
    new Conv2d(3, 3, { padding: 'same', useBias: false }), new BatchNorm(),
    new Conv2d(3, 3, { padding: 'same', useBias: false }), new BatchNorm(),
    new Conv2d(3, 3, { padding: 'same', useBias: false }), new BatchNorm(),
    new Dense(4),
  ] as const;
  constructor() {
    super('flat');
  }
  get parts(): readonly Layer[] {
    return this.#parts;
  }
  protected forward(x: Tensor, isTraining: boolean): Tensor {
    const o = { isTraining };
    const [c0, b0, c1, b1, c2, b2, d] = this.#parts;
    const h = relu(b0.call(c0.call(x, o), o));
    const y = relu(b1.call(c1.call(h, o), o));
    const r = relu(add(h, b2.call(c2.call(y, o), o)));
    return d.call(new Flatten().call(r, o), o);
  }
  override weights(): Map<string, Tensor> {
    return new Map(this.#parts.flatMap((l, i) => [...l.weights()].map(([k, t]) => [`${i}_${k}`, t] as [string, Tensor])));
  }
  override buffers(): Map<string, Tensor> {
    return new Map(this.#parts.flatMap((l, i) => [...l.buffers()].map(([k, t]) => [`${i}_${k}`, t] as [string, Tensor])));
  }
}

const x = randomNormal([6, 5, 5, 3], { seed: 11 });
const labels = new Tensor(Float32Array.from({ length: 24 }, (_, i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0)), [6, 4]);

/** Builds both nets and gives the flat one the composite's initial values. */
function twins(): { model: Sequential; flat: FlatNet } {
  const model = composite();
  const flat = new FlatNet();
  model.call(x, { isTraining: false });
  flat.call(x, { isTraining: false });
  const leaves = leafLayers(model).filter((l) => l.layer.stateDict().size > 0).map((l) => l.layer);
  expect(leaves.length).toBe(flat.parts.length);
  leaves.forEach((leaf, i) => flat.parts[i]!.loadStateDict(leaf.stateDict()));
  return { model, flat };
}

function adamSteps(model: Layer, steps: number): void {
  const opt = new Adam({ learningRate: 0.01 });
  for (let s = 0; s < steps; s++) {
    const params = model.parameters();
    for (const p of params) p.grad = null;
    backward(softmaxCrossEntropyWithLogits(labels, model.call(x, { isTraining: true })));
    opt.step(params);
  }
}

const bits = (t: Tensor): number[] => [...new Uint32Array(Float32Array.from(t.data).buffer)];

describe('a residual block as a Layer subclass', () => {
  it('is found: names from the fields, every weight a parameter, moving statistics in the state dict', () => {
    const { model } = twins();
    expect([...model.stateDict().keys()].filter((k) => k.startsWith('block1/'))).toEqual([
      'block1/conv1/kernel', 'block1/bn1/gamma', 'block1/bn1/beta', 'block1/bn1/movingMean', 'block1/bn1/movingVariance',
      'block1/conv2/kernel', 'block1/bn2/gamma', 'block1/bn2/beta', 'block1/bn2/movingMean', 'block1/bn2/movingVariance',
    ]);
    expect(model.parameters().length).toBe(1 + 2 + 1 + 2 + 1 + 2 + 2); // conv1, bn1, block (4 + 2 + ... ), dense
    expect(batchNormLayers(model).map((l) => l.name)).toEqual(['bn1', 'block1/bn1', 'block1/bn2']);
    // weights() and buffers() of a composite are the whole tree (what fit's non-finite guard and weight decay read).
    const block = model.layers[3] as ResidualBlock;
    expect([...block.weights().keys()]).toEqual(['conv1/kernel', 'bn1/gamma', 'bn1/beta', 'conv2/kernel', 'bn2/gamma', 'bn2/beta']);
    expect([...model.buffers().keys()]).toEqual(['bn1/movingMean', 'bn1/movingVariance', 'block1/bn1/movingMean', 'block1/bn1/movingVariance', 'block1/bn2/movingMean', 'block1/bn2/movingVariance']);
    expect(model.namedWeights()).toEqual(model.weights());
    expect(namedLayers(model).map((l) => l.name)).toEqual(['conv1', 'bn1', 'relu1', 'block1', 'block1/conv1', 'block1/bn1', 'block1/conv2', 'block1/bn2', 'flatten1', 'dense1']);
  });

  it('gives its unnamed children distinct names, so their kernels start different', () => {
    const { model } = twins();
    const block = model.layers[3] as ResidualBlock;
    expect([block.conv1.name, block.conv2.name]).toEqual(['block1.conv1', 'block1.conv2']);
    expect(bits(block.conv1.kernel!)).not.toEqual(bits(block.conv2.kernel!));
  });

  it('trains bit-identically to the flat network (4 Adam steps, parameters and moving statistics)', () => {
    const { model, flat } = twins();
    adamSteps(model, 4);
    adamSteps(flat, 4);
    const a = [...model.stateDict().values()];
    const leaves = flat.parts.flatMap((l) => [...l.stateDict().values()]);
    expect(a.length).toBe(leaves.length);
    a.forEach((t, i) => expect(bits(t), `tensor ${i}`).toEqual(bits(leaves[i]!)));
    expect(bits(model.call(x, { isTraining: false }))).toEqual(bits(flat.call(x, { isTraining: false })));
    // And the training did move the block's weights (so the comparison is not of two untouched models).
    const fresh = twins().model;
    expect(bits(model.stateDict().get('block1/conv2/kernel')!)).not.toEqual(bits(fresh.stateDict().get('block1/conv2/kernel')!));
  });

  it('round-trips through toBytes/fromBytes with bit-identical predictions', () => {
    const { model } = twins();
    adamSteps(model, 2);
    const copy = composite();
    copy.call(x, { isTraining: false });
    expect(bits(copy.call(x, { isTraining: false }))).not.toEqual(bits(model.call(x, { isTraining: false })));
    fromBytes(copy, toBytes(model));
    expect(bits(copy.call(x, { isTraining: false }))).toEqual(bits(model.call(x, { isTraining: false })));
  });

  it('folds its declared pairs: predictions within 1e-4 relative, no bn entries left', () => {
    const { model } = twins();
    adamSteps(model, 3);
    const folded = foldBatchNorm(model);
    const want = model.call(x, { isTraining: false });
    expectClose(folded.call(x, { isTraining: false }).data, want.data, { atol: 1e-5, rtol: 1e-4 });
    expect([...folded.stateDict().keys()]).toEqual(['conv1/kernel', 'conv1/bias', 'block1/conv1/kernel', 'block1/conv1/bias', 'block1/conv2/kernel', 'block1/conv2/bias', 'dense1/kernel', 'dense1/bias']);
    expect(folded.parameters()).toEqual([]);
    expect(() => folded.call(x, { isTraining: true })).toThrow(/inference-only/);
    // The original is untouched.
    expect(bits(model.call(x, { isTraining: false }))).toEqual(bits(want));
  });

  it('folds Sequentials held in an array of a composite without any declaration, and a shared one once', () => {
    const shared = new Sequential([new Conv2d(3, 1, { useBias: false }), new BatchNorm()]);
    class Stack extends Layer {
      readonly kind = 'stack';
      blocks = [new Sequential([new Conv2d(3, 3, { padding: 'same', useBias: false }), new BatchNorm(), new ReLU()]), shared];
      again = { last: shared };
      constructor() {
        super('stack');
      }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        const o = { isTraining };
        return this.again.last.call(this.blocks[1]!.call(this.blocks[0]!.call(x, o), o), o);
      }
    }
    const model = new Stack();
    model.call(x, { isTraining: true });
    model.call(x, { isTraining: true });
    const folded = foldBatchNorm(model);
    expect([...folded.stateDict().keys()]).toEqual(['blocks/0/conv1/kernel', 'blocks/0/conv1/bias', 'blocks/1/conv1/kernel', 'blocks/1/conv1/bias']);
    expect(folded.again.last).toBe(folded.blocks[1]); // still one layer, applied twice
    expect(folded.blocks[0]).not.toBe(model.blocks[0]);
    expectClose(folded.call(x, { isTraining: false }).data, model.call(x, { isTraining: false }).data, { atol: 1e-5, rtol: 1e-4 });
    expect(() => folded.call(x, { isTraining: true })).toThrow(/inference-only/);
  });

  it('refuses to fold a block that does not declare its pairs, naming the BatchNorm', () => {
    class Undeclared extends ResidualBlock {
      override batchNormPairs(): [string, string][] {
        return [['conv1', 'bn1']];
      }
    }
    const model = new Sequential([new Undeclared(3, 'block')]);
    model.call(x, { isTraining: false });
    expect(() => foldBatchNorm(model)).toThrow(/cannot fold 'block\/bn2': it is called inside the forward of 'block'.*batchNormPairs/);
    class WrongPair extends ResidualBlock {
      override batchNormPairs(): [string, string][] {
        return [['bn1', 'conv1'], ['conv2', 'bn2']];
      }
    }
    const wrong = new Sequential([new WrongPair(3, 'block')]);
    wrong.call(x, { isTraining: false });
    expect(() => foldBatchNorm(wrong)).toThrow(/declares the pair \['bn1', 'conv1'\]/);
  });

  it('freezes: trainable = false on the block leaves its weights out and its BNs use moving statistics in training', () => {
    const { model } = twins();
    const block = model.layers[3] as ResidualBlock;
    const before = model.parameters().length;
    block.trainable = false;
    expect([block.conv1, block.bn1, block.conv2, block.bn2].map((l) => l.trainable)).toEqual([false, false, false, false]);
    expect(model.parameters().length).toBe(before - 6);
    const blockTensors = new Set(block.stateDict().values());
    expect(model.parameters().some((p) => blockTensors.has(p))).toBe(false);
    const saved = [...block.stateDict().values()].map(bits);
    adamSteps(model, 2);
    [...block.stateDict().values()].forEach((t, i) => expect(bits(t)).toEqual(saved[i]));
    // In a training call the frozen block computes exactly its inference output.
    const h = model.layers[2]!.call(model.layers[1]!.call(model.layers[0]!.call(x, { isTraining: false }), { isTraining: false }), { isTraining: false });
    expect(bits(block.call(h, { isTraining: true }))).toEqual(bits(block.call(h, { isTraining: false })));
    block.trainable = true;
    expect(model.parameters().length).toBe(before);
  });

  it('trains with fit, and resumes from a checkpoint with Adam state exactly', () => {
    const a = twins().model;
    const b = twins().model; // same initial values (same names, same seeds)
    const optA = new Adam({ learningRate: 0.01 });
    fit(a, { x, y: labels }, { optimizer: optA, loss: softmaxCrossEntropyWithLogits, batchSize: 6, steps: 2, shuffle: false });
    const optB = new Adam({ learningRate: 0.01 });
    fromBytes(b, toBytes(a, { optimizer: optA }), { optimizer: optB });
    fit(a, { x, y: labels }, { optimizer: optA, loss: softmaxCrossEntropyWithLogits, batchSize: 6, steps: 2, shuffle: false });
    fit(b, { x, y: labels }, { optimizer: optB, loss: softmaxCrossEntropyWithLogits, batchSize: 6, steps: 2, shuffle: false });
    const sb = b.stateDict();
    for (const [name, t] of a.stateDict()) expect(bits(sb.get(name)!), name).toEqual(bits(t));
    expect(bits(a.stateDict().get('block1/conv1/kernel')!)).not.toEqual(bits(twins().model.stateDict().get('block1/conv1/kernel')!));
  });

  it('is reported on by batchNormReport', () => {
    const { model } = twins();
    expect(batchNormReport(model, x).map((r) => r.name)).toEqual(['bn1', 'block1/bn1', 'block1/bn2']);
  });

  it('recomputes the statistics of the BatchNorms inside it', () => {
    const { model } = twins();
    const summary = recomputeBatchNormStatistics(model, [x]);
    expect(Object.keys(summary.layers)).toEqual(['bn1', 'block1/bn1', 'block1/bn2']);
    const block = model.layers[3] as ResidualBlock;
    expect(block.bn2.movingMean!.data.some((v) => v !== 0)).toBe(true);
  });
});

describe('finding children', () => {
  class Holder extends Layer {
    readonly kind = 'holder';
    list = [new Dense(2, { name: 'a' }), [new Dense(2)]];
    heads: { digit: Dense; none: null; n: number } = { digit: new Dense(2), none: null, n: 3 };
    byKey = new Map<string, Layer>([['tail', new Dense(2)]]);
    constructor() {
      super('holder');
    }
    protected forward(x: Tensor, isTraining: boolean): Tensor {
      const o = { isTraining };
      const a = this.list[0] as Dense;
      const b = (this.list[1] as Dense[])[0]!;
      return this.byKey.get('tail')!.call(add(this.heads.digit.call(a.call(x, o), o), b.call(x, o)), o);
    }
  }
  const input = randomNormal([3, 2], { seed: 2 });

  it('in arrays (nested), plain objects and Maps, named by index and key', () => {
    const h = new Holder();
    h.call(input, { isTraining: false });
    expect([...h.stateDict().keys()]).toEqual([
      'list/0/kernel', 'list/0/bias', 'list/1/0/kernel', 'list/1/0/bias', 'heads/digit/kernel', 'heads/digit/bias', 'byKey/tail/kernel', 'byKey/tail/bias',
    ]);
    expect(h.parameters().length).toBe(8);
    expect(h.countParams()).toBe(4 * (2 * 2 + 2));
  });

  it('counts a child held twice once', () => {
    class Shared extends Layer {
      readonly kind = 'shared';
      dense = new Dense(2);
      again = [this.dense];
      constructor() {
        super('shared');
      }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        return this.dense.call(this.again[0]!.call(x, { isTraining }), { isTraining });
      }
    }
    const s = new Shared();
    s.call(input, { isTraining: false });
    expect([...s.stateDict().keys()]).toEqual(['dense/kernel', 'dense/bias']);
    expect(s.parameters().length).toBe(2);
    expect(s.countParams()).toBe(6);
  });

  it('refuses a cycle', () => {
    class Node extends Layer {
      readonly kind = 'node';
      next: Layer | null = null;
      constructor(name: string) {
        super(name);
      }
      protected forward(x: Tensor): Tensor {
        return x;
      }
    }
    const a = new Node('a');
    const b = new Node('b');
    a.next = b;
    b.next = a;
    expect(() => a.stateDict()).toThrow(/layer cycle: 'next\/next' is the model 'a' itself/);
    expect(() => a.parameters()).toThrow(/cycle/);
  });
});

describe('names (issue 14 item 7)', () => {
  it("refuses '/' in a layer name, so 'a' holding 'k' and a layer 'a/k' cannot meet", () => {
    expect(() => new Dense(2, { name: 'a/k' })).toThrow(/Dense: name 'a\/k' cannot be used in a tensor name.*must not contain '\/'/);
  });

  it('a name made to collide after construction is an error naming both layers, and nothing is saved', () => {
    const inner = new Sequential([new Dense(2, { name: 'k' })], { name: 'a' });
    const other = new Dense(2, { name: 'x' });
    const model = new Sequential([inner, other]);
    model.call(randomNormal([2, 2], { seed: 1 }), { isTraining: false });
    other.name = 'a/k'; // the case, made by assignment: two stateDict entries for four tensors before
    expect(() => model.stateDict()).toThrow(/sequential: layer name 'a\/k' cannot be used in a tensor name/);
    expect(() => toBytes(model)).toThrow(/layer name 'a\/k'/);
    // Two Map keys that read the same ('1' and 1) give two layers one path: refused, naming both.
    class Keys extends Layer {
      readonly kind = 'keys';
      m = new Map<unknown, Layer>([[1, new Dense(1, { name: 'one' })], ['1', new Dense(1, { name: 'other' })]]);
      constructor() {
        super('keys');
      }
      protected forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new Keys().stateDict()).toThrow(/two layers have the path 'm\/1': a dense \('one'\) and a dense \('other'\)/);
    // A custom layer whose own weight name contains the separator.
    class Sneaky extends Layer {
      readonly kind = 'sneaky';
      a = new Dense(2, { name: 'k' });
      t = new Tensor(new Float32Array(2), [2]);
      constructor() {
        super('sneaky');
      }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        return this.a.call(x, { isTraining });
      }
      override weights(): Map<string, Tensor> {
        return new Map([['a/bias', this.t]]);
      }
    }
    const s = new Sneaky();
    s.call(randomNormal([2, 2], { seed: 1 }), { isTraining: false });
    expect(() => s.stateDict()).toThrow(/two tensors are named 'a\/bias': one of sneaky 'sneaky' \(its 'a\/bias'\), one of dense 'a' \(its 'bias'\)/);
    expect(() => toBytes(s)).toThrow(/two tensors are named 'a\/bias'/);
  });

  it('a Map key with a slash is refused', () => {
    class M extends Layer {
      readonly kind = 'm';
      m = new Map([['p/q', new Dense(1)]]);
      constructor() {
        super('m');
      }
      protected forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new M().stateDict()).toThrow(/Map key in field 'm' 'p\/q' cannot be used/);
  });
});

describe('loadStateDict', () => {
  it('loads everything, or refuses (missing, unexpected, shape) and changes nothing', () => {
    const { model } = twins();
    const other = twins().model;
    adamSteps(other, 1);
    const before = [...model.stateDict().values()].map(bits);
    const state = new Map(other.stateDict());
    state.delete('block1/bn2/movingMean');
    state.set('extra', new Tensor(new Float32Array(1), [1]));
    expect(() => model.loadStateDict(state)).toThrow(/missing tensor 'block1\/bn2\/movingMean'; unexpected tensor 'extra'; nothing was loaded/);
    const badShape = new Map(other.stateDict());
    badShape.set('dense1/bias', new Tensor(new Float32Array(5), [5]));
    expect(() => model.loadStateDict(badShape, { strict: false })).toThrow(/'dense1\/bias' has shape \[5\] in the entries but \[4\] in the model/);
    [...model.stateDict().values()].forEach((t, i) => expect(bits(t)).toEqual(before[i]));
    expect(() => model.loadStateDict(state, { strict: false, strcit: true } as never)).toThrow(/strcit/);

    expect(model.loadStateDict(state, { strict: false })).toEqual({ missing: ['block1/bn2/movingMean'], unexpected: ['extra'] });
    expect(bits(model.stateDict().get('block1/conv2/kernel')!)).toEqual(bits(other.stateDict().get('block1/conv2/kernel')!));
    expect(bits(model.stateDict().get('block1/bn2/movingMean')!)).toEqual(before[[...model.stateDict().keys()].indexOf('block1/bn2/movingMean')]);
    expect(model.loadStateDict(other.stateDict())).toEqual({ missing: [], unexpected: [] });
    expect(bits(model.call(x, { isTraining: false }))).toEqual(bits(other.call(x, { isTraining: false })));
  });
});
