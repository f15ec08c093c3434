/**
 * LeakyReLU, ELU, GELU, Softmax and Dropout layers: each equals its
 * functional op (bit for bit), has no parameters, checks its options and
 * names itself when it refuses. Dropout: identity in inference, inverted
 * scaling in training, a reproducible mask stream per seed, NaN kept, and
 * its gradient checked by finite differences with a fixed mask.
 */
import { describe, expect, it } from 'vitest';
import {
  Dropout, ELU, GELU, LeakyReLU, Random, Sequential, Softmax, Tensor, dropout, elu, gelu, gradcheck, leakyRelu, softmax, tensor,
} from '../../src/index.js';
import { uniform } from '../helpers.js';

const TRAIN = { isTraining: true };
const INFER = { isTraining: false };

describe('LeakyReLU, ELU, GELU, Softmax layers', () => {
  const x = uniform([4, 6], 1, -3, 3);

  it('equal their ops, with Keras defaults (LeakyReLU alpha 0.3, ELU alpha 1, exact GELU, softmax on the last axis)', () => {
    expect(new LeakyReLU().call(x, INFER).data).toEqual(leakyRelu(x, 0.3).data);
    expect(new LeakyReLU({ alpha: 0.01 }).call(x, TRAIN).data).toEqual(leakyRelu(x, 0.01).data);
    expect(new ELU().call(x, INFER).data).toEqual(elu(x, 1).data);
    expect(new ELU({ alpha: 0.5 }).call(x, INFER).data).toEqual(elu(x, 0.5).data);
    expect(new GELU().call(x, INFER).data).toEqual(gelu(x).data);
    expect(new GELU({ approximate: 'tanh' }).call(x, INFER).data).toEqual(gelu(x, { approximate: 'tanh' }).data);
    expect(new Softmax().call(x, INFER).data).toEqual(softmax(x, -1).data);
    expect(new Softmax({ axis: 0 }).call(x, INFER).data).toEqual(softmax(x, 0).data);
    // The defaults really are those values (not just equal to themselves).
    expect(new LeakyReLU().call(tensor([-1]), INFER).item()).toBeCloseTo(-0.3, 7);
    expect(new LeakyReLU().alpha).toBe(0.3);
  });

  it('have no parameters or state, and Sequential names them by kind', () => {
    const model = new Sequential([new LeakyReLU(), new ELU(), new GELU(), new Softmax(), new LeakyReLU()]);
    model.call(x, TRAIN);
    expect(model.layers.map((l) => l.name)).toEqual(['leakyRelu1', 'elu1', 'gelu1', 'softmax1', 'leakyRelu2']);
    expect(model.parameters()).toEqual([]);
    expect(model.stateDict().size).toBe(0);
    expect(model.isBuilt).toBe(true);
  });

  it('pass gradients through (GELU then Softmax, gradchecked)', () => {
    const model = new Sequential([new GELU(), new Softmax()]);
    expect(gradcheck((t) => model.call(t, TRAIN), [uniform([3, 4], 2, -2, 2)]).ok).toBe(true);
  });

  it('refuse bad options, naming the layer', () => {
    expect(() => new LeakyReLU({ alfa: 0.1 } as never)).toThrow("LeakyReLU: unknown option 'alfa' (did you mean 'alpha'?); valid options: alpha, name");
    expect(() => new LeakyReLU({ alpha: -0.1 })).toThrow('LeakyReLU: alpha must be a number in [0, Infinity], got -0.1');
    expect(() => new ELU({ alpha: NaN })).toThrow('ELU: alpha must be a number in [0, Infinity], got NaN');
    expect(() => new GELU({ approximate: true } as never)).toThrow("GELU: approximate must be one of 'none', 'tanh', got true");
    expect(() => new GELU({ name: 3 } as never)).toThrow('GELU: name must be a non-empty string, got 3');
    expect(() => new Softmax({ axis: 1.5 })).toThrow('Softmax: axis must be an integer, got 1.5');
    expect(() => new Softmax({ dim: 1 } as never)).toThrow("Softmax: unknown option 'dim'");
    expect(() => new Softmax(1 as never)).toThrow('Softmax: options must be an object, got 1');
  });

  it('Softmax refuses an axis its input lacks, naming itself and the shape', () => {
    expect(() => new Softmax({ axis: 2 }).call(tensor([[1, 2, 3]]), INFER)).toThrow('softmax: axis 2 is out of range for input [1,3]');
    const model = new Sequential([new Softmax({ axis: -3 })]);
    expect(() => model.call(tensor([[1, 2]]), INFER)).toThrow('softmax1: axis -3 is out of range for input [1,2]');
  });
});

describe('Dropout', () => {
  const x = uniform([50, 40], 3, 0.5, 2); // no zeros, so a zero in the output means dropped

  it('is the identity in an inference call (the same tensor)', () => {
    expect(new Dropout(0.5, { seed: 1 }).call(x, INFER)).toBe(x);
  });

  it('in a training call drops about `rate` of the elements and divides the rest by 1 - rate', () => {
    const y = new Dropout(0.3, { seed: 1 }).call(x, TRAIN);
    let dropped = 0;
    for (let i = 0; i < x.size; i++) {
      if (y.data[i] === 0) dropped++;
      else expect(y.data[i]).toBe(Math.fround(x.data[i]! * Math.fround(1 / 0.7))); // the float32 scale, as PyTorch
    }
    // 2000 Bernoulli(0.3) draws: standard deviation 0.0102, so 0.3 +- 0.04 is a 4-sigma band.
    expect(Math.abs(dropped / x.size - 0.3)).toBeLessThan(0.04);
  });

  it('draws a new mask each call, the same sequence of masks for the same seed, another for another seed', () => {
    const a = new Dropout(0.5, { seed: 42 });
    const b = new Dropout(0.5, { seed: 42 });
    const c = new Dropout(0.5, { seed: 43 });
    const a1 = a.call(x, TRAIN).data, a2 = a.call(x, TRAIN).data;
    const b1 = b.call(x, TRAIN).data, b2 = b.call(x, TRAIN).data;
    expect(b1).toEqual(a1);
    expect(b2).toEqual(a2);
    expect(a2).not.toEqual(a1);
    expect(c.call(x, TRAIN).data).not.toEqual(a1);
    // Inference calls do not advance the stream.
    const d = new Dropout(0.5, { seed: 42 });
    d.call(x, INFER);
    expect(d.call(x, TRAIN).data).toEqual(a1);
  });

  it('unseeded layers in a Sequential draw different but reproducible masks (seeded by their names)', () => {
    const run = (): Float32Array[] => {
      const m = new Sequential([new Dropout(0.5), new Dropout(0.5)]);
      const [d1, d2] = m.layers as Dropout[];
      return [d1!.call(x, TRAIN).data, d2!.call(x, TRAIN).data];
    };
    const [p1, p2] = run();
    const [q1, q2] = run();
    expect(p1).not.toEqual(p2);
    expect(q1).toEqual(p1);
    expect(q2).toEqual(p2);
  });

  it('rate 0 is the identity even in training', () => {
    expect(new Dropout(0).call(x, TRAIN)).toBe(x);
  });

  it('keeps NaN, where kept and where dropped, in training and inference', () => {
    const nan = new Tensor(new Float32Array(64).fill(NaN), [64]);
    expect([...new Dropout(0.5, { seed: 2 }).call(nan, TRAIN).data].every(Number.isNaN)).toBe(true);
    expect([...new Dropout(0.5, { seed: 2 }).call(nan, INFER).data].every(Number.isNaN)).toBe(true);
  });

  it('the gradient is the mask divided by 1 - rate (finite differences with a fixed mask, and exactly)', () => {
    expect(gradcheck((t) => dropout(t, 0.4, new Random(5)), [uniform([6, 7], 4)]).ok).toBe(true);
    const t = uniform([6, 7], 4).requireGrad();
    const y = dropout(t, 0.4, new Random(5));
    y.backward({ grad: new Float32Array(42).fill(1) });
    const mask = new Random(5);
    for (let i = 0; i < 42; i++) expect(t.grad!.data[i]).toBe(mask.next() >= 0.4 ? Math.fround(1 / 0.6) : 0);
  });

  it('refuses bad rates, seeds and options, naming itself', () => {
    expect(() => new Dropout(1)).toThrow('Dropout: rate must be below 1 (rate 1 drops everything and divides by 0), got 1');
    expect(() => new Dropout(-0.1)).toThrow('Dropout: rate must be a number in [0, 1], got -0.1');
    expect(() => new Dropout(NaN)).toThrow('Dropout: rate must be a number in [0, 1], got NaN');
    expect(() => new Dropout(0.5, { seed: 1.5 })).toThrow('Dropout: seed must be an integer >= 0, got 1.5');
    expect(() => new Dropout(0.5, { sed: 1 } as never)).toThrow("Dropout: unknown option 'sed' (did you mean 'seed'?)");
    expect(() => new Dropout(0.5).call([1] as never, TRAIN)).toThrow('dropout.call: input must be a Tensor');
    expect(() => dropout(x, 1.2, new Random(1))).toThrow('dropout: rate must be a number in [0, 1], got 1.2');
  });
});
