import { describe, expect, it } from 'vitest';
import { Random } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import {
  crc32,
  decodeSafetensors,
  encodeSafetensors,
  readFloat32LE,
  writeFloat32LE,
} from '../../src/train/safetensors.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bitsOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const t = (values: number[], shape: number[]): Tensor => new Tensor(Float32Array.from(values), shape);

/** A file as another writer might lay it out: header JSON as given (space-padded to 8), then `data`. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), headerText = JSON.stringify(header)): Uint8Array {
  const json = utf8(headerText + ' '.repeat((8 - (utf8(headerText).length % 8)) % 8));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Reads the file the way the safetensors spec describes it, with no help from the code under test. */
function parseBySpec(bytes: Uint8Array): Map<string, { shape: number[]; values: number[] }> {
  let n = 0;
  for (let i = 7; i >= 0; i--) n = n * 256 + bytes[i]!; // u64 little-endian, byte by byte
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, any>;
  const data = bytes.subarray(8 + n);
  const out = new Map<string, { shape: number[]; values: number[] }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets as [number, number];
    const values: number[] = [];
    for (let p = begin; p < end; p += 4) {
      // IEEE 754 binary32 from four little-endian bytes: sign | 8-bit exponent | 23-bit fraction.
      const u = data[p]! + data[p + 1]! * 2 ** 8 + data[p + 2]! * 2 ** 16 + data[p + 3]! * 2 ** 24;
      const sign = u >= 2 ** 31 ? -1 : 1;
      const exponent = Math.floor(u / 2 ** 23) % 256;
      const fraction = u % 2 ** 23;
      if (exponent === 255) values.push(fraction === 0 ? sign * Infinity : NaN);
      else if (exponent === 0) values.push(sign * fraction * 2 ** -149);
      else values.push(sign * (1 + fraction / 2 ** 23) * 2 ** (exponent - 127));
    }
    out.set(name, { shape: info.shape as number[], values });
  }
  return out;
}

function sampleTensors(): Map<string, Tensor> {
  const rng = new Random(7);
  const kernel = new Float32Array(3 * 3 * 2 * 5).map(() => rng.normal());
  return new Map<string, Tensor>([
    ['conv1/kernel', new Tensor(kernel, [3, 3, 2, 5])],
    ['bn1/movingMean', t([0.1, -0.2, 1e-30, 3.4e38, -0], [5])],
    ['bn1/movingVariance', t([NaN, Infinity, -Infinity, 1.4e-45, 1], [5])],
    ['adam/step', t([42], [])],
    ['empty', new Tensor(new Float32Array(0), [0, 3])],
  ]);
}

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    // python3 -c "import zlib,struct; print(hex(zlib.crc32(struct.pack('<3f', 1.0, -2.0, 0.5))))"
    expect(crc32(new Uint8Array([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f]))).toBe(0x332b058b);
  });
});

describe('encodeSafetensors', () => {
  it('writes exactly the bytes the reference layout gives (golden)', () => {
    // python3: data = struct.pack('<3f', 1.0, -2.0, 0.5)
    //   h = json.dumps({"__metadata__": {"normgrad.crc32": format(zlib.crc32(data), '08x')},
    //                   "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
    //                   "b/c": {"dtype": "F32", "shape": [], "data_offsets": [8, 12]}}, separators=(',', ':')).encode()
    //   h += b' ' * ((8 - len(h) % 8) % 8); print((struct.pack('<Q', len(h)) + h + data).hex())
    const golden =
      'a0000000000000007b225f5f6d657461646174615f5f223a7b226e6f726d677261642e6372633332223a223333326230353862227d2c' +
      '2261223a7b226474797065223a22463332222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c385d7d2c' +
      '22622f63223a7b226474797065223a22463332222c227368617065223a5b5d2c22646174615f6f666673657473223a5b382c31325d7d7d' +
      '2020202020200000803f000000c00000003f';
    const bytes = encodeSafetensors(new Map([['b/c', t([0.5], [])], ['a', t([1, -2], [2])]]));
    expect(hex(bytes)).toBe(golden);
  });

  it('lays out the header and data as the spec says (checked by hand)', () => {
    const tensors = sampleTensors();
    const bytes = encodeSafetensors(tensors, { note: 'hello' });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.startsWith('{')).toBe(true);
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(text.length - text.trimEnd().length).toBeLessThan(8); // only the alignment padding
    const header = JSON.parse(text) as Record<string, any>;
    expect(Object.keys(header)).toEqual(['__metadata__', 'adam/step', 'bn1/movingMean', 'bn1/movingVariance', 'conv1/kernel', 'empty']);
    expect(header.__metadata__).toEqual({ note: 'hello', 'normgrad.crc32': crc32(bytes.subarray(8 + n)).toString(16).padStart(8, '0') });
    let offset = 0;
    for (const name of Object.keys(header).slice(1)) {
      const src = tensors.get(name)!;
      expect(header[name]).toEqual({ dtype: 'F32', shape: [...src.shape], data_offsets: [offset, offset + 4 * src.size] });
      expect(hex(bytes.subarray(8 + n + offset, 8 + n + offset + 4 * src.size))).toBe(hex(bitsOf(src.data)));
      offset += 4 * src.size;
    }
    expect(bytes.length).toBe(8 + n + offset);
  });

  it('is deterministic whatever the insertion order', () => {
    const forward = sampleTensors();
    const backward = new Map([...forward].reverse());
    expect(hex(encodeSafetensors(backward))).toBe(hex(encodeSafetensors(forward)));
  });

  it('orders names by code point, like the reference writer (Rust sorts UTF-8 bytes)', () => {
    // '\uff01' (U+FF01) < '\u{1f600}' by code point, but JS's default sort puts the surrogate pair 0xd83d first.
    const bytes = encodeSafetensors(new Map([['x\u{1f600}', t([1], [1])], ['x\uff01', t([2], [1])]]));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, any>;
    expect(Object.keys(header)).toEqual(['__metadata__', 'x\uff01', 'x\u{1f600}']);
    expect(header['x\uff01'].data_offsets).toEqual([0, 4]);
  });

  it('copies the values, so later changes do not reach the bytes', () => {
    const x = t([1, 2], [2]);
    const bytes = encodeSafetensors(new Map([['x', x]]));
    x.data[0] = 99;
    expect(Array.from(decodeSafetensors(bytes).tensors.get('x')!.data)).toEqual([1, 2]);
  });

  it('refuses the reserved metadata key and invalid names', () => {
    expect(() => encodeSafetensors(new Map([['x', t([1], [1])]]), { 'normgrad.crc32': '0' })).toThrow(/reserved/);
    expect(() => encodeSafetensors(new Map([['__metadata__', t([1], [1])]]))).toThrow(/not a valid tensor name/);
    expect(() => encodeSafetensors(new Map([['', t([1], [1])]]))).toThrow(/not a valid tensor name/);
  });
});

describe('decodeSafetensors', () => {
  it('round-trips bit-identically, NaN, -0 and subnormals included', () => {
    const tensors = sampleTensors();
    const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, { epoch: '3' }));
    expect([...back.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, src] of tensors) {
      expect(back.get(name)!.shape).toEqual([...src.shape]);
      expect(hex(bitsOf(back.get(name)!.data))).toBe(hex(bitsOf(src.data)));
    }
    expect(metadata.epoch).toBe('3');
  });

  it('agrees with an independent reader written from the spec', () => {
    const tensors = sampleTensors();
    const bySpec = parseBySpec(encodeSafetensors(tensors));
    expect(bySpec.size).toBe(tensors.size);
    for (const [name, src] of tensors) {
      expect(bySpec.get(name)!.shape).toEqual([...src.shape]);
      expect(bySpec.get(name)!.values).toEqual(Array.from(src.data)); // toEqual: NaN equals NaN, -0 is not 0
    }
  });

  it('reads files from other writers: no metadata, no CRC, header keys in any order', () => {
    const data = new Uint8Array(12);
    [5, 6, 7].forEach((v, i) => new DataView(data.buffer).setFloat32(4 * i, v, true));
    const bytes = build({ z: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, a: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.get('z')!.data)).toEqual([5, 6]);
    expect(Array.from(tensors.get('a')!.data)).toEqual([7]);
    expect(metadata).toEqual({});
  });

  it('reads from a view at any offset, such as a pooled Node Buffer', () => {
    const bytes = encodeSafetensors(new Map([['x', t([1.5, -2.5, 3], [3])]]));
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    const view = backing.subarray(3); // not 4-byte aligned
    expect(Array.from(decodeSafetensors(view).tensors.get('x')!.data)).toEqual([1.5, -2.5, 3]);
    const buf = Buffer.concat([Buffer.alloc(5, 0xff), Buffer.from(bytes)]).subarray(5);
    expect(Array.from(decodeSafetensors(buf).tensors.get('x')!.data)).toEqual([1.5, -2.5, 3]);
  });

  it('takes the same bytes on the big-endian (DataView) path as on the fast path', () => {
    const values = new Float32Array([1, -2, 0.1, NaN, -0, Infinity, 1.4e-45]);
    new Uint32Array(values.buffer)[3] = 0x7fc12345; // a NaN with a payload must survive too
    const fast = new Uint8Array(4 * values.length + 4);
    const portable = new Uint8Array(4 * values.length + 4);
    writeFloat32LE(fast, 4, values, true);
    writeFloat32LE(portable, 4, values, false);
    expect(hex(portable)).toBe(hex(fast));
    expect(hex(portable.subarray(4, 8))).toBe('0000803f'); // 1.0f little-endian
    expect(hex(bitsOf(readFloat32LE(portable.subarray(4), false)))).toBe(hex(bitsOf(values)));
    expect(hex(bitsOf(readFloat32LE(portable.subarray(4), true)))).toBe(hex(bitsOf(values)));
  });

  describe('refuses malformed files with a clear error', () => {
    const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);
    const one = (info: object, data = f32(1)): Uint8Array => build({ x: info }, data);
    const cases: [string, () => Uint8Array, RegExp][] = [
      ['empty file', () => new Uint8Array(0), /0 bytes, shorter than the 8-byte header length/],
      ['7 bytes', () => new Uint8Array(7), /7 bytes, shorter than the 8-byte/],
      ['header length beyond the file', () => encodeSafetensors(new Map([['x', t([1], [1])]])).subarray(0, 40), /header length \d+ is beyond the end of the file \(40 bytes/],
      ['header length 2^64-1', () => new Uint8Array(16).fill(0xff, 0, 8), /header length 18446744073709551615 is beyond the end/],
      ['garbage header', () => build(null, f32(0), 'not json at all!'), /header is not valid UTF-8 JSON/],
      ['invalid UTF-8', () => { const b = build(null, f32(0), '{"x":1}'); b[9] = 0xff; return b; }, /not valid UTF-8 JSON/],
      ['header is an array', () => build([1, 2]), /header is not a JSON object/],
      ['unsupported dtype', () => one({ dtype: 'F8_E5M2', shape: [4], data_offsets: [0, 4] }, f32(1)), /tensor 'x' has dtype "F8_E5M2", but normgrad reads only F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL/],
      ['F16 shape/offset mismatch', () => one({ dtype: 'F16', shape: [3], data_offsets: [0, 4] }, f32(1)), /F16 shape \[3\] \(6 bytes\) but data_offsets \[0,4\] hold 4 bytes/],
      ['missing dtype', () => one({ shape: [1], data_offsets: [0, 4] }), /dtype undefined/],
      ['negative dimension', () => one({ dtype: 'F32', shape: [-1], data_offsets: [0, 4] }), /invalid shape \[-1\]/],
      ['bad offsets', () => one({ dtype: 'F32', shape: [1], data_offsets: [0] }), /invalid data_offsets \[0\]/],
      ['shape/offset mismatch', () => one({ dtype: 'F32', shape: [2], data_offsets: [0, 4] }), /shape \[2\] \(8 bytes\) but data_offsets \[0,4\] hold 4 bytes/],
      ['offsets out of range', () => one({ dtype: 'F32', shape: [2], data_offsets: [0, 8] }), /out of range: the data section is 4 bytes/],
      ['offsets reversed', () => one({ dtype: 'F32', shape: [0], data_offsets: [4, 0] }), /end before they begin/],
      ['overlap', () => build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /tensor 'b' at \[4,8\] overlaps/],
      ['gap', () => build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32(3)), /gap in the data section: bytes \[4,8\)/],
      ['gap at the start', () => one({ dtype: 'F32', shape: [1], data_offsets: [4, 8] }, f32(2)), /gap in the data section: bytes \[0,4\)/],
      ['trailing bytes', () => one({ dtype: 'F32', shape: [1], data_offsets: [0, 4] }, f32(2)), /4 trailing bytes after the last tensor/],
      ['non-string metadata', () => build({ __metadata__: { epoch: 3 } }), /__metadata__ 'epoch' must be a string/],
      ['CRC mismatch (flipped data byte)', () => { const b = encodeSafetensors(sampleTensors()); b[b.length - 1]! ^= 0x01; return b; }, /checkpoint is corrupt: CRC-32 of the data is [0-9a-f]{8} but the header records "[0-9a-f]{8}"/],
      ['truncated data', () => { const b = encodeSafetensors(sampleTensors()); return b.subarray(0, b.length - 4); }, /out of range|truncated/],
    ];
    for (const [label, make, message] of cases) {
      it(label, () => {
        expect(() => decodeSafetensors(make())).toThrow(message);
        expect(() => decodeSafetensors(make(), 'loadCheckpoint')).toThrow(/^loadCheckpoint: /);
      });
    }
  });
});
