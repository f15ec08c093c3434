/**
 * Property-based tests (fast-check) at the op, shape and safetensors
 * boundaries: for random shapes and random bytes, normgrad either computes
 * what a naive reference computes or throws a plain Error that names the
 * function, never a TypeError/RangeError and never a hang. Seeds are fixed
 * (same runs every time) and run counts bounded so the file stays fast.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ng from '../src/index.js';
import {
  Dense, Sequential, Tensor, add, concat, decodeSafetensors, encodeSafetensors, fromBytes, maximum, mul, permute, reshape, sub,
  sum, tensor, toBytes, type NestedArray, type Shape,
} from '../src/index.js';

const SEED = 14;
const run = <T>(arb: fc.Arbitrary<T>, predicate: (v: T) => void, numRuns = 200): void => {
  fc.assert(fc.property(arb, predicate), { seed: SEED, numRuns });
};

/** Runs f; returns its result, or the error it threw after checking it is a plain Error whose message starts with `prefix`. */
function resultOrNamedError<T>(f: () => T, prefix: string): { value: T } | { error: Error } {
  try {
    return { value: f() };
  } catch (e) {
    if (!(e instanceof Error) || e.constructor !== Error) throw new Error(`expected a plain Error, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    if (!e.message.startsWith(prefix)) throw new Error(`expected an error starting with '${prefix}', got '${e.message}'`);
    return { error: e };
  }
}

// Dimensions biased towards 1 (where broadcasting happens), with 0 included.
const dim = fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 4 }));
const shapeArb = fc.array(dim, { minLength: 0, maxLength: 4 });
const size = (s: Shape): number => s.reduce((p, d) => p * d, 1);

/** Deterministic distinct-ish values for a shape. */
function values(shape: Shape, offset: number): Tensor {
  const data = new Float32Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7 + offset) % 13) - 6;
  return new Tensor(data, shape);
}

/** The naive broadcast: the output shape, or null when some aligned pair differs with neither being 1. */
function naiveBroadcastShape(a: Shape, b: Shape): number[] | null {
  const rank = Math.max(a.length, b.length);
  const pa = [...Array(rank - a.length).fill(1), ...a];
  const pb = [...Array(rank - b.length).fill(1), ...b];
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (pa[i] !== pb[i] && pa[i] !== 1 && pb[i] !== 1) return null;
    out.push(pa[i] === 1 ? pb[i]! : pa[i]!);
  }
  return out;
}

/** Element at multi-index `idx` (of the output rank) of t, read with broadcasting. */
function at(t: Tensor, idx: number[]): number {
  const lead = idx.length - t.rank;
  let flat = 0;
  for (let d = 0; d < t.rank; d++) flat = flat * t.shape[d]! + (t.shape[d] === 1 ? 0 : idx[lead + d]!);
  return t.data[flat]!;
}

function* indices(shape: Shape): Generator<number[]> {
  if (size(shape) === 0) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

describe('broadcasting agrees with a naive reference or refuses naming both shapes', () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor, (u: number, v: number) => number][] = [
    ['add', add, (u, v) => u + v],
    ['sub', sub, (u, v) => u - v],
    ['mul', mul, (u, v) => u * v],
    ['maximum', maximum, (u, v) => Math.max(u, v)],
  ];
  it.each(ops)('%s', (name, op, f) => {
    run(fc.tuple(shapeArb, shapeArb), ([sa, sb]) => {
      const a = values(sa, 1);
      const b = values(sb, 5);
      const expected = naiveBroadcastShape(sa, sb);
      const got = resultOrNamedError(() => op(a, b), `${name}: `);
      if (expected === null) {
        expect('error' in got).toBe(true);
        if ('error' in got) expect(got.error.message).toContain(`shapes [${sa.join(',')}] and [${sb.join(',')}] cannot broadcast`);
        return;
      }
      if (!('value' in got)) throw got.error;
      expect(got.value.shape).toEqual(expected);
      const want: number[] = [];
      for (const idx of indices(expected)) want.push(Math.fround(f(at(a, idx), at(b, idx))));
      expect(Array.from(got.value.data)).toEqual(want); // small integers: exact
    });
  });
});

describe('shape ops on random shapes', () => {
  it('reshape keeps the values in order when sizes agree, and otherwise names both shapes', () => {
    run(fc.tuple(shapeArb, shapeArb), ([from, to]) => {
      const x = values(from, 3);
      const got = resultOrNamedError(() => reshape(x, to), 'reshape: ');
      if (size(from) === size(to)) {
        if (!('value' in got)) throw got.error;
        expect(got.value.shape).toEqual(to);
        expect(Array.from(got.value.data)).toEqual(Array.from(x.data));
      } else {
        expect('error' in got && got.error.message).toContain(`[${from.join(',')}]`);
      }
    });
  });

  it('permute moves every element to the permuted index, or refuses a non-permutation', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 0, maxLength: 5 }), fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length })));
    run(arb, ([shape, junk, perm]) => {
      const x = values(shape, 2);
      const y = permute(x, perm);
      expect(y.shape).toEqual(perm.map((p) => shape[p]));
      for (const idx of indices(y.shape)) {
        const src = new Array<number>(shape.length);
        perm.forEach((p, d) => (src[p] = idx[d]!));
        expect(at(y, idx)).toBe(at(x, src));
      }
      const isPerm = junk.length === shape.length && [...junk].map((p) => (p < 0 ? p + shape.length : p)).sort().every((p, i) => p === i);
      const got = resultOrNamedError(() => permute(x, junk), 'permute: ');
      expect('value' in got).toBe(isPerm);
    });
  });

  it('sum over random axes equals a naive loop; bad axes are named', () => {
    const arb = shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 3 })));
    run(arb, ([shape, axes]) => {
      const x = values(shape, 4);
      const rank = shape.length;
      const got = resultOrNamedError(() => sum(x, axes, { keepDims: true }), 'sum: ');
      if (axes.some((a) => a < -rank || a >= rank)) {
        expect('error' in got && got.error.message).toMatch(/^sum: axis -?\d+ is out of range for rank \d+/);
        return;
      }
      if (!('value' in got)) throw got.error;
      const reduced = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const outShape = shape.map((d, i) => (reduced.has(i) ? 1 : d));
      expect(got.value.shape).toEqual(outShape);
      const want = new Float64Array(size(outShape));
      for (const idx of indices(shape)) {
        let o = 0;
        for (let d = 0; d < rank; d++) o = o * outShape[d]! + (reduced.has(d) ? 0 : idx[d]!);
        want[o]! += at(x, idx);
      }
      expect(Array.from(got.value.data)).toEqual(Array.from(want));
    });
  });

  it('concat along a random axis equals a naive join, or names the shapes', () => {
    const arb = fc.tuple(shapeArb.filter((s) => s.length > 0), fc.integer({ min: 0, max: 3 }), dim, dim);
    run(arb, ([shape, axisPick, d1, other]) => {
      const axis = axisPick % shape.length;
      const sb = [...shape];
      sb[axis] = d1;
      const mismatch = shape.length > 1 && other !== shape[(axis + 1) % shape.length];
      if (mismatch) sb[(axis + 1) % shape.length] = other;
      const a = values(shape, 1);
      const b = values(sb, 9);
      const got = resultOrNamedError(() => concat([a, b], axis), 'concat: ');
      if (mismatch) {
        expect('error' in got && got.error.message).toContain(`concat: shapes [${shape.join(',')}], [${sb.join(',')}] differ outside axis ${axis}`);
        return;
      }
      if (!('value' in got)) throw got.error;
      const y = got.value;
      for (const idx of indices(y.shape)) {
        const fromA = idx[axis]! < shape[axis]!;
        const src = [...idx];
        if (!fromA) src[axis]! -= shape[axis]!;
        expect(at(y, idx)).toBe(at(fromA ? a : b, src));
      }
    });
  });
});

describe('junk in any argument of a public function: it works or a named Error', () => {
  const x = () => tensor([[1, 2, 3], [4, 5, 6]]);
  const model = () => {
    const m = new Sequential([new Dense(2)]);
    m.call(tensor([[1, 2, 3]]), { isTraining: false });
    return m;
  };
  // [error prefix, function, valid arguments]; each run replaces one argument with junk.
  const table: [string, (...args: never[]) => unknown, () => unknown[]][] = [
    ['add: ', ng.add, () => [x(), x()]],
    ['matmul: ', ng.matmul, () => [x(), ng.transpose(x())]],
    ['sum: ', ng.sum, () => [x(), 1]],
    ['mean: ', ng.mean, () => [x(), [0]]],
    ['argmax: ', ng.argmax, () => [x(), 0]],
    ['reshape: ', ng.reshape, () => [x(), [3, 2]]],
    ['permute: ', ng.permute, () => [x(), [1, 0]]],
    ['transpose: ', ng.transpose, () => [x()]],
    ['sliceRows: ', ng.sliceRows, () => [x(), 0, 1]],
    ['concat: ', ng.concat, () => [[x(), x()], 0]],
    ['flatten: ', ng.flatten, () => [x()]],
    ['relu: ', ng.relu, () => [x()]],
    ['zeros: ', ng.zeros, () => [[2, 3]]],
    ['full: ', ng.full, () => [[2], 1]],
    ['tensor: ', ng.tensor, () => [[1, 2, 3, 4], [2, 2]]],
    ['conv2d: ', ng.conv2d, () => [ng.zeros([1, 4, 4, 2]), ng.zeros([3, 3, 2, 1])]],
    ['biasAdd: ', ng.biasAdd, () => [x(), ng.zeros([3])]],
    ['batchNorm: ', (a: Tensor, b: Tensor | null) => ng.batchNormTraining(a, b, null, 1e-3).y, () => [x(), ng.ones([3])]],
    ['backward: ', ng.backward, () => [ng.sum(ng.mul(x().requireGrad(), 2))]],
    ['accuracy: ', ng.accuracy, () => [ng.tensor([0, 1]), x()]],
    ['predict: ', ng.predict, () => [model(), x()]],
    ['evaluate: ', ng.evaluate, () => [model(), { x: x(), y: ng.tensor([[1, 0], [0, 1]]) }]],
    ['toBytes: ', ng.toBytes, () => [model()]],
    ['decodeSafetensors: ', ng.decodeSafetensors, () => [ng.toBytes(model())]],
    ['epochOrder: ', ng.epochOrder, () => [4, 1, 0]],
    ['toNdarray: ', ng.toNdarray, () => [x()]],
  ];
  const junk = fc.constantFrom<unknown>(null, undefined, 'x', {}, [], [null], [Symbol('t')], [1, 'a'], [[1]], 3.5, -1, NaN, 1e12, () => 0, new Float64Array(2), Symbol('s'), 10n);
  it.each(table.map(([prefix, f, args]) => [prefix.slice(0, -2), prefix, f, args] as const))('%s', (_, prefix, f, args) => {
    run(fc.tuple(fc.nat(), junk), ([pick, j]) => {
      const a = args();
      a[pick % a.length] = j;
      resultOrNamedError(() => (f as (...xs: unknown[]) => unknown)(...a), prefix);
    }, 60);
  });
});

describe('tensor() on random nested input: round-trips or a named error', () => {
  // Leaves are mostly numbers, sometimes junk; nesting is sometimes ragged or has holes.
  const leaf = fc.oneof(
    { weight: 8, arbitrary: fc.double({ noNaN: false }) },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined, '1', true, {}, [] as unknown) },
  );
  const nested = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { maxLength: 4 }),
      fc.sparseArray(tie('node'), { maxLength: 4 }), // holes: [1, , 3]
    ),
  })).node;
  const regular = fc.array(fc.array(fc.float({ noNaN: false }), { minLength: 2, maxLength: 2 }), { maxLength: 3 });

  /** The reference: the shape and float32 values of a rectangular all-number nesting, or null. */
  function reference(v: unknown): { shape: number[]; flat: number[] } | null {
    if (typeof v === 'number') return { shape: [], flat: [Math.fround(v)] };
    if (!Array.isArray(v)) return null;
    const flat: number[] = [];
    let inner: number[] | null = null;
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return null;
      const r = reference(v[i]);
      if (r === null) return null;
      if (inner !== null && r.shape.join() !== inner.join()) return null;
      inner = r.shape;
      flat.push(...r.flat);
    }
    if (v.length === 0) return { shape: [0], flat: [] };
    return { shape: [v.length, ...inner!], flat };
  }

  it.each([
    ['random nesting with junk', nested],
    ['regular 2-column matrices', regular as fc.Arbitrary<unknown>],
  ])('%s', (_, arb) => {
    run(arb, (v) => {
      const ref = reference(v);
      const got = resultOrNamedError(() => tensor(v as NestedArray), 'tensor: ');
      if (ref === null) {
        expect('error' in got).toBe(true);
        return;
      }
      if (!('value' in got)) throw got.error;
      expect(got.value.shape).toEqual(ref.shape);
      expect(Array.from(got.value.data)).toEqual(ref.flat);
      if (ref.shape.length > 0 && ref.flat.length > 0) expect(tensor(got.value.toArray()).data).toEqual(got.value.data);
    }, 300);
  });
});

describe('safetensors and fromBytes on random bytes: a named Error, never a raw one, never a hang', () => {
  const model = new Sequential([new Dense(3), new Dense(2)]);
  model.call(tensor([[1, 2, 3, 4]]), { isTraining: false });
  const valid = toBytes(model);
  const small = encodeSafetensors(new Map([['w', tensor([[1, 2], [3, 4]])], ['b', tensor([5])]]), { note: 'x' });

  it('pure garbage', () => {
    run(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      resultOrNamedError(() => decodeSafetensors(bytes), 'decodeSafetensors: ');
      const got = resultOrNamedError(() => fromBytes(model, bytes), 'fromBytes: ');
      expect('error' in got).toBe(true);
    }, 300);
  });

  it('a plausible length prefix followed by garbage or random JSON', () => {
    const json = fc.json({ maxDepth: 3 }).map((text) => new TextEncoder().encode(text));
    const body = fc.oneof(json, fc.uint8Array({ maxLength: 120 }));
    run(fc.tuple(body, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -3, max: 3 })), ([header, data, skew]) => {
      const n = Math.max(0, header.length + skew);
      const bytes = new Uint8Array(8 + header.length + data.length);
      new DataView(bytes.buffer).setUint32(0, n, true);
      bytes.set(header, 8);
      bytes.set(data, 8 + header.length);
      resultOrNamedError(() => decodeSafetensors(bytes), 'decodeSafetensors: ');
      resultOrNamedError(() => fromBytes(model, bytes), 'fromBytes: ');
    }, 300);
  });

  it('random headers with plausible fields: decode or a named error, and what decodes is consistent', () => {
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'F16', 'I64', 7, null),
      shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }), fc.constant('x')),
      data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -2, max: 40 }), fc.integer({ min: -2, max: 40 })), fc.constant(null)),
    }, { requiredKeys: [] });
    const header = fc.dictionary(fc.constantFrom('a', 'b', '__metadata__', 'c/d'), entry, { maxKeys: 3 });
    run(fc.tuple(header, fc.integer({ min: 0, max: 40 })), ([h, dataLength]) => {
      const text = new TextEncoder().encode(JSON.stringify(h));
      const bytes = new Uint8Array(8 + text.length + dataLength);
      new DataView(bytes.buffer).setUint32(0, text.length, true);
      bytes.set(text, 8);
      const got = resultOrNamedError(() => decodeSafetensors(bytes), 'decodeSafetensors: ');
      if ('value' in got) {
        let total = 0;
        for (const t of got.value.tensors.values()) {
          expect(t.data.length).toBe(size(t.shape));
          total += 4 * t.data.length;
        }
        expect(total).toBe(dataLength); // the tensors tile the data section exactly
      }
    }, 300);
  });

  it('valid files with flipped bytes or truncated are refused by name (the CRC catches data damage)', () => {
    for (const file of [valid, small]) {
      run(fc.tuple(fc.nat({ max: file.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: file.length })), ([at, xor, cut]) => {
        const flipped = Uint8Array.from(file);
        flipped[at]! ^= xor;
        const decoded = resultOrNamedError(() => decodeSafetensors(flipped), 'decodeSafetensors: ');
        // A flip inside the header's padding or a JSON string may still decode; a flip in the data never does.
        const dataStart = 8 + Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
        if (at >= dataStart) expect('error' in decoded).toBe(true);
        if (cut < file.length) expect('error' in resultOrNamedError(() => decodeSafetensors(file.subarray(0, cut)), 'decodeSafetensors: ')).toBe(true);
      }, 150);
    }
  });
});
