import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Random } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { writeFileAtomic, type AtomicWriteFs } from '../../src/train/atomic-write.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint-file.js';
import {
  fromBytes,
  toBytes,
  type HasOptimizerState,
  type HasState,
} from '../../src/train/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/train/safetensors.js';

const SHAPES: [string, number[]][] = [
  ['dense1/kernel', [3, 4]],
  ['dense1/bias', [4]],
  ['bn1/gamma', [4]],
  ['bn1/beta', [4]],
  ['bn1/movingMean', [4]],
  ['bn1/movingVariance', [4]],
];

/** Dense(3->4) then inference-mode batch norm; its state is a Map of tensors like a Sequential's stateDict. */
class FakeModel implements HasState {
  readonly state = new Map<string, Tensor>();
  constructor(seed: number, shapes = SHAPES) {
    const rng = new Random(seed);
    for (const [name, shape] of shapes) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => rng.normal());
      if (name.endsWith('movingVariance')) data.forEach((v, i) => (data[i] = 0.5 + v * v));
      this.state.set(name, new Tensor(data, shape));
    }
  }
  stateDict(): Map<string, Tensor> {
    return new Map(this.state);
  }
  predict(x: number[]): number[] {
    const s = (n: string): Float32Array => this.state.get(n)!.data;
    return [0, 1, 2, 3].map((j) => {
      let y = s('dense1/bias')[j]!;
      for (let i = 0; i < 3; i++) y += x[i]! * s('dense1/kernel')[i * 4 + j]!;
      const xHat = (y - s('bn1/movingMean')[j]!) / Math.sqrt(s('bn1/movingVariance')[j]! + 1e-3);
      return s('bn1/gamma')[j]! * xHat + s('bn1/beta')[j]!;
    });
  }
}

/** Adam-like slots keyed by parameter tensor, plus a step counter; validates before changing anything. */
class FakeAdam implements HasOptimizerState {
  slots = new Map<Tensor, { m: Tensor; v: Tensor }>();
  step = 0;
  constructor(params: Map<string, Tensor>, seed: number) {
    const rng = new Random(seed);
    for (const [name, p] of params) {
      if (name.includes('moving')) continue; // not trainable
      const fill = (): Tensor => new Tensor(p.data.map(() => rng.next()), p.shape);
      this.slots.set(p, { m: fill(), v: fill() });
    }
    this.step = 1 + rng.int(100);
  }
  stateDict(paramNames: Map<Tensor, string>): Map<string, Tensor> {
    const out = new Map<string, Tensor>([['adam/step', new Tensor(Float32Array.of(this.step), [])]]);
    for (const [p, { m, v }] of this.slots) {
      out.set(`adam/${paramNames.get(p)}/m`, m);
      out.set(`adam/${paramNames.get(p)}/v`, v);
    }
    return out;
  }
  loadStateDict(entries: Map<string, Tensor>, params: Map<string, Tensor>): void {
    const step = entries.get('adam/step');
    if (!step) throw new Error("FakeAdam: missing 'adam/step'");
    const next = new Map<Tensor, { m: Tensor; v: Tensor }>();
    for (const [p] of this.slots) {
      const name = [...params].find(([, t]) => t === p)?.[0];
      const m = entries.get(`adam/${name}/m`);
      const v = entries.get(`adam/${name}/v`);
      if (!m || !v) throw new Error(`FakeAdam: missing slots for '${name}'`);
      next.set(p, { m, v });
    }
    this.slots = next;
    this.step = step.item();
  }
  snapshot(): string {
    const parts = [String(this.step)];
    for (const { m, v } of this.slots.values()) parts.push(hex(m.data), hex(v.data));
    return parts.join('|');
  }
}

const hex = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const snapshot = (model: HasState): Map<string, string> =>
  new Map([...model.stateDict()].map(([name, t]) => [name, `${JSON.stringify(t.shape)}:${hex(t.data)}`]));

/** `bytes` decoded, changed by `edit` and re-encoded: a well-formed file whose contents are wrong. */
function edited(bytes: Uint8Array, edit: (m: Map<string, Tensor>) => void): Uint8Array {
  const entries = new Map([...decodeSafetensors(bytes).tensors].map(([name, t]) => [name, new Tensor(t.data, t.shape)]));
  edit(entries);
  return encodeSafetensors(entries);
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normgrad-checkpoint-'));
});
afterEach(() => {
  fs.chmodSync(dir, 0o700);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('checkpoints', () => {
  it('round-trip every state entry bit-identically, moving statistics included', () => {
    const trained = new FakeModel(1);
    const fresh = new FakeModel(2);
    expect(snapshot(fresh)).not.toEqual(snapshot(trained));
    const liveTensors = [...fresh.state.values()];
    fromBytes(fresh, toBytes(trained));
    expect(snapshot(fresh)).toEqual(snapshot(trained));
    expect([...fresh.state.values()].every((t, i) => t === liveTensors[i])).toBe(true); // copied in place
    expect(fresh.predict([0.3, -1, 2])).toEqual(trained.predict([0.3, -1, 2]));
  });

  it('save then load through a file gives identical predictions, optimizer state included', () => {
    const trained = new FakeModel(1);
    const adam = new FakeAdam(trained.state, 10);
    const file = path.join(dir, 'model.safetensors');
    saveCheckpoint(trained, file, { optimizer: adam });
    const names = [...decodeSafetensors(fs.readFileSync(file)).tensors.keys()];
    expect(names).toContain('optimizer/adam/step');
    expect(names).toContain('optimizer/adam/dense1/kernel/m');
    expect(names).toContain('bn1/movingVariance');

    const fresh = new FakeModel(2);
    const freshAdam = new FakeAdam(fresh.state, 20);
    expect(freshAdam.snapshot()).not.toBe(adam.snapshot());
    loadCheckpoint(fresh, file, { optimizer: freshAdam });
    expect(snapshot(fresh)).toEqual(snapshot(trained));
    expect(freshAdam.snapshot()).toBe(adam.snapshot());
    expect(fresh.predict([1, 2, 3])).toEqual(trained.predict([1, 2, 3]));
  });

  it('restores only the model when the file has optimizer state but no optimizer is passed', () => {
    const trained = new FakeModel(1);
    const fresh = new FakeModel(2);
    fromBytes(fresh, toBytes(trained, { optimizer: new FakeAdam(trained.state, 3) }));
    expect(snapshot(fresh)).toEqual(snapshot(trained));
  });

  it('round-trips an optimizer that has no state yet', () => {
    const trained = new FakeModel(1);
    const empty: HasOptimizerState = { stateDict: () => new Map(), loadStateDict: (entries) => expect(entries.size).toBe(0) };
    const fresh = new FakeModel(2);
    fromBytes(fresh, toBytes(trained, { optimizer: empty }), { optimizer: empty });
    expect(snapshot(fresh)).toEqual(snapshot(trained));
  });

  describe('refuse a bad file and leave the model and optimizer exactly as they were', () => {
    const source = new FakeModel(1);
    const good = (): Uint8Array => toBytes(source, { optimizer: new FakeAdam(source.state, 5) });
    const cases: [string, () => Uint8Array, RegExp][] = [
      ['corrupt (a flipped data byte)', () => { const b = good(); b[b.length - 5]! ^= 0x10; return b; }, /^fromBytes: checkpoint is corrupt: CRC-32/],
      ['truncated', () => good().subarray(0, 300), /^fromBytes: .*(beyond the end|out of range)/],
      ['truncated to 5 bytes', () => good().subarray(0, 5), /shorter than the 8-byte header length/],
      ['wrong shape', () => edited(good(), (m) => m.set('dense1/kernel', new Tensor(new Float32Array(12), [4, 3]))), /'dense1\/kernel' has shape \[4,3\] in the file but \[3,4\] in the model/],
      ['missing key', () => edited(good(), (m) => m.delete('bn1/movingMean')), /^fromBytes: missing tensor 'bn1\/movingMean'$/],
      ['extra key', () => edited(good(), (m) => m.set('x', new Tensor(new Float32Array(1), [1]))), /^fromBytes: unexpected tensor 'x'$/],
      ['several problems at once', () => edited(good(), (m) => { m.delete('bn1/beta'); m.set('y', new Tensor(new Float32Array(1), [1])); }), /missing tensor 'bn1\/beta'; unexpected tensor 'y'/],
      ['unsupported dtype', () => { const b = good(); const i = Buffer.from(b).indexOf('"F32"'); b.set(new TextEncoder().encode('"U64"'), i); return b; }, /dtype "U64", but normgrad reads only F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL/],
      ['garbage header', () => { const b = good(); b.fill(0x41, 8, 40); return b; }, /header is not valid UTF-8 JSON/],
      ['not a checkpoint at all', () => new TextEncoder().encode('PK\x03\x04 this is a zip file, not safetensors'), /beyond the end of the file/],
      ['optimizer state missing', () => toBytes(source), /an optimizer was passed but the file has no optimizer state/],
      ['optimizer state incomplete', () => edited(good(), (m) => m.delete('optimizer/adam/bn1/beta/v')), /the optimizer rejected its saved state: FakeAdam: missing slots/],
    ];
    for (const [label, make, message] of cases) {
      it(label, () => {
        const model = new FakeModel(2);
        const adam = new FakeAdam(model.state, 6);
        const before = snapshot(model);
        const adamBefore = adam.snapshot();
        expect(() => fromBytes(model, make(), { optimizer: adam })).toThrow(message);
        expect(snapshot(model)).toEqual(before);
        expect(adam.snapshot()).toBe(adamBefore);
      });
    }
  });

  it('names loadCheckpoint and the path in file errors', () => {
    const model = new FakeModel(2);
    const file = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(file, edited(toBytes(new FakeModel(1)), (m) => m.delete('bn1/movingMean')));
    expect(() => loadCheckpoint(model, file)).toThrow("loadCheckpoint: missing tensor 'bn1/movingMean'");
    expect(() => loadCheckpoint(model, path.join(dir, 'nope.safetensors'))).toThrow(/^loadCheckpoint: cannot read '.*nope.safetensors': ENOENT/);
  });

  it('explains that an unbuilt model must be called once before loading or saving', () => {
    const unbuilt = new FakeModel(1, []);
    const bytes = toBytes(new FakeModel(1));
    expect(() => fromBytes(unbuilt, bytes)).toThrow(/no state yet.*first call.*call the model once on a sample input/);
    expect(() => toBytes(unbuilt)).toThrow(/no state yet, so there is nothing to save/);
  });

  it('refuses model names that collide with the optimizer prefix', () => {
    const model = new FakeModel(1, [['optimizer/w', [2]]]);
    expect(() => toBytes(model)).toThrow(/'optimizer\/w' uses the prefix 'optimizer\/'/);
  });
});

describe('writeFileAtomic', () => {
  const leftovers = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  it('creates and then replaces a file, leaving no temp file', () => {
    const file = path.join(dir, 'a.bin');
    writeFileAtomic(file, Uint8Array.of(1, 2, 3));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
    writeFileAtomic(file, Uint8Array.of(9));
    expect([...fs.readFileSync(file)]).toEqual([9]);
    expect(fs.readdirSync(dir)).toEqual(['a.bin']);
  });

  it('a crash mid-write leaves the previous file intact and no temp file', () => {
    const file = path.join(dir, 'model.safetensors');
    const previous = toBytes(new FakeModel(1));
    writeFileAtomic(file, previous);
    let writes = 0;
    const crashing: AtomicWriteFs = {
      ...fs,
      writeSync: (fd, buffer, offset, length, position) => {
        if (++writes > 1) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return fs.writeSync(fd, buffer, offset, Math.min(length, 16), position); // a short write first
      },
    };
    expect(() => writeFileAtomic(file, toBytes(new FakeModel(2)), crashing)).toThrow(/ENOSPC/);
    expect(writes).toBe(2);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(previous))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('a failing fsync leaves the previous file intact and no temp file', () => {
    const file = path.join(dir, 'a.bin');
    fs.writeFileSync(file, 'old');
    const failing: AtomicWriteFs = { ...fs, fsyncSync: () => { throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }); } };
    expect(() => writeFileAtomic(file, Uint8Array.of(1), failing)).toThrow(/EIO/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(leftovers()).toEqual([]);
  });

  it('a rename that fails for real (the target is a directory) removes the temp file', () => {
    const target = path.join(dir, 'taken');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, Uint8Array.of(1))).toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(fs.readFileSync(path.join(target, 'keep'), 'utf8')).toBe('x');
    expect(leftovers()).toEqual([]);
  });

  it('skips a leftover temp name and tolerates a directory that cannot be fsynced', () => {
    const file = path.join(dir, 'a.bin');
    const opened: string[] = [];
    const quirky: AtomicWriteFs = {
      ...fs,
      openSync: (p, flags, mode) => {
        opened.push(String(p));
        if (opened.length === 1) throw Object.assign(new Error('EEXIST: file already exists'), { code: 'EEXIST' });
        if (p === dir) throw Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' });
        return fs.openSync(p, flags, mode);
      },
    };
    writeFileAtomic(file, Uint8Array.of(7, 8), quirky);
    expect([...fs.readFileSync(file)]).toEqual([7, 8]);
    expect(opened.length).toBe(3);
    expect(opened[1]).not.toBe(opened[0]);
    expect(opened[2]).toBe(dir);
    expect(leftovers()).toEqual([]);
  });

  it('saveCheckpoint into a missing directory fails without leaving anything behind', () => {
    const file = path.join(dir, 'missing', 'model.safetensors');
    expect(() => saveCheckpoint(new FakeModel(1), file)).toThrow(/ENOENT/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
