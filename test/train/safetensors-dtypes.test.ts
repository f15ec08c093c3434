/**
 * Every safetensors dtype, against bytes and conversions produced by numpy
 * and torch (test/fixtures/interop/make_dtypes.py), plus round trips and the
 * refusals where float32 cannot carry a value.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors } from '../../src/train/safetensors.js';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
} from '../../src/train/safetensors-dtypes.js';

const FIXTURES = new URL('../fixtures/interop/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const expected = JSON.parse(readFileSync(new URL('dtypes.json', FIXTURES), 'utf8')) as {
  read: Record<SafetensorsDtype, string[]>;
  write: { source: string[]; F16: string[]; BF16: string[] };
};
const fromBits = (hex: string[]): Float32Array => new Float32Array(Uint32Array.from(hex, (h) => parseInt(h, 16)).buffer);
const bitsOf = (a: Float32Array): string[] => Array.from(new Uint32Array(Float32Array.from(a).buffer), (b) => b.toString(16).padStart(8, '0'));
const isNaNBits16 = (b: number, exponentMask: number): boolean => (b & exponentMask) === exponentMask && (b & 0x7fff) !== exponentMask;

describe('reading every dtype (file written by numpy/torch)', () => {
  const { tensors } = decodeSafetensors(fixture('dtypes.safetensors'));

  it('holds one tensor per dtype, each stored as that dtype', () => {
    expect([...tensors.keys()].sort()).toEqual([...SAFETENSORS_DTYPES].sort());
    for (const [name, t] of tensors) expect(t.dtype).toBe(name);
    expect(tensors.get('BOOL')!.shape).toEqual([2, 3]);
  });

  for (const dtype of SAFETENSORS_DTYPES) {
    it(`${dtype} -> float32 bit for bit as numpy/torch convert it (NaN payloads, -0, subnormals, infinities)`, () => {
      expect(bitsOf(tensors.get(dtype)!.data)).toEqual(expected.read[dtype]);
    });
  }

  it('keeps an integer tensor as bytes until asked (readSafetensors), so int64 needs no float32', () => {
    const raw = readSafetensors(fixture('refuse-i64-beyond-2p24.safetensors')).tensors.get('x')!;
    expect(raw.dtype).toBe('I64');
    const v = new DataView(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength);
    expect(v.getBigInt64(8, true)).toBe(2n ** 24n + 1n);
  });
});

describe('refusing values float32 cannot carry (files written by numpy)', () => {
  const cases: [string, RegExp][] = [
    ['refuse-i64-beyond-2p24', /^decodeSafetensors: tensor 'x' \(I64\) holds 16777217 at index 1; float32 is exact only for integers up to 2\^24 = 16777216/],
    ['refuse-i32-beyond-2p24', /tensor 'x' \(I32\) holds -16777217 at index 0; float32 is exact only for integers up to 2\^24/],
    ['refuse-f64-overflow', /tensor 'x' \(F64\) holds 1e\+39 at index 1, beyond float32's largest finite value/],
    ['refuse-bool-byte-2', /tensor 'x' \(BOOL\) holds the byte 2 at index 1; a BOOL byte must be 0 or 1/],
  ];
  for (const [file, message] of cases) {
    it(file, () => {
      expect(() => decodeSafetensors(fixture(`${file}.safetensors`))).toThrow(message);
      expect(() => decodeSafetensors(fixture(`${file}.safetensors`), 'loadCheckpoint')).toThrow(/^loadCheckpoint: /);
    });
  }
});

describe('writing F16 and BF16 (rounding checked against numpy and torch)', () => {
  const source = fromBits(expected.write.source);
  for (const [dtype, convert, exponentMask] of [['F16', float32ToFloat16Bits, 0x7c00], ['BF16', float32ToBfloat16Bits, 0x7f80]] as const) {
    it(`${dtype}: round to nearest even, ties and subnormals included; overflow is refused`, () => {
      const want = expected.write[dtype];
      for (let i = 0; i < source.length; i++) {
        const got = convert(source[i]!);
        const label = `${dtype} of ${expected.write.source[i]}`;
        if (want[i] === 'overflow') expect(got, label).toBeNull();
        // torch writes every NaN as 0xffff: compare NaN-ness there, bits everywhere else
        else if (Number.isNaN(source[i]!)) expect(isNaNBits16(got!, exponentMask), label).toBe(true);
        else expect(got?.toString(16).padStart(4, '0'), label).toBe(want[i]);
      }
    });
  }

  it('encodeSafetensors writes the dtype asked for, and the values read back as rounded', () => {
    const finite = source.filter((_, i) => expected.write.F16[i] !== 'overflow' && expected.write.BF16[i] !== 'overflow');
    const x = new Tensor(finite, [finite.length]);
    for (const dtype of ['F16', 'BF16'] as const) {
      const bytes = encodeSafetensors(new Map([['x', x]]), {}, { dtype });
      const back = decodeSafetensors(bytes).tensors.get('x')!;
      expect(back.dtype).toBe(dtype);
      expect(bytes.length).toBeLessThan(encodeSafetensors(new Map([['x', x]])).length - finite.length); // 2 bytes, not 4
      const once = Float32Array.from(finite, (v) => (dtype === 'F16' ? float16BitsToFloat32(float32ToFloat16Bits(v)!) : bfloat16BitsToFloat32(float32ToBfloat16Bits(v)!)));
      expect(bitsOf(back.data)).toEqual(bitsOf(once));
      // a second trip changes nothing: the rounded values are exactly representable
      expect(bitsOf(decodeSafetensors(encodeSafetensors(new Map([['x', new Tensor(back.data, back.shape)]]), {}, { dtype })).tensors.get('x')!.data)).toEqual(bitsOf(once));
    }
  });

  it('refuses a value the dtype cannot hold, naming the tensor and the index', () => {
    const big = new Map([['w', new Tensor(Float32Array.of(1, 70000), [2])]]);
    expect(() => encodeSafetensors(big, {}, { dtype: 'F16' })).toThrow(/^encodeSafetensors: tensor 'w' holds 70000 at index 1, beyond F16's largest finite value 65504/);
    const max = new Map([['w', new Tensor(Float32Array.of(3.4028234663852886e38), [1])]]);
    expect(() => encodeSafetensors(max, {}, { dtype: 'BF16' })).toThrow(/beyond BF16's largest finite value/);
  });
});

describe('round trips through every dtype', () => {
  const values: Record<SafetensorsDtype, number[]> = {
    F64: [0.1, -3.5, 1e-30, NaN, Infinity, -0],
    F32: [0.1, -3.5, 1e-40, NaN, -Infinity, -0],
    F16: [0.5, -3.5, 2 ** -24, NaN, Infinity, 65504],
    BF16: [0.5, -3.5, 2 ** -133, NaN, -Infinity, 2 ** 100],
    I64: [0, -1, 2 ** 24, -(2 ** 24), 12345, 7],
    I32: [0, -1, 2 ** 24, -(2 ** 24), 12345, 7],
    I16: [0, -1, 32767, -32768, 12345, 7],
    I8: [0, -1, 127, -128, 45, 7],
    U8: [0, 1, 255, 128, 45, 7],
    BOOL: [0, 1, 1, 0, 0, 1],
  };
  for (const dtype of SAFETENSORS_DTYPES) {
    it(`${dtype}: values it can hold come back bit for bit`, () => {
      const x = new Tensor(Float32Array.from(values[dtype]), [2, 3]);
      const back = decodeSafetensors(encodeSafetensors(new Map([['x', x]]), {}, { dtype })).tensors.get('x')!;
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 3]);
      expect(bitsOf(back.data)).toEqual(bitsOf(x.data));
    });
  }

  it('mixes dtypes per tensor (options.dtypes), as a PyTorch state dict with an I64 counter', () => {
    const tensors = new Map([['w', new Tensor(Float32Array.of(0.25, -1), [2])], ['n', new Tensor(Float32Array.of(3), [])]]);
    const back = decodeSafetensors(encodeSafetensors(tensors, {}, { dtype: 'BF16', dtypes: { n: 'I64' } })).tensors;
    expect([back.get('w')!.dtype, back.get('n')!.dtype]).toEqual(['BF16', 'I64']);
    expect(Array.from(back.get('n')!.data)).toEqual([3]);
  });

  it('refuses values an integer dtype cannot hold, and bad options', () => {
    const x = (v: number): Map<string, Tensor> => new Map([['x', new Tensor(Float32Array.of(v), [1])]]);
    expect(() => encodeSafetensors(x(0.5), {}, { dtype: 'I32' })).toThrow(/tensor 'x' holds 0.5 at index 0, which is not an integer in I32's range \[-2\^31, 2\^31 - 1\]/);
    expect(() => encodeSafetensors(x(128), {}, { dtype: 'I8' })).toThrow(/not an integer in I8's range \[-128, 127\]/);
    expect(() => encodeSafetensors(x(-1), {}, { dtype: 'U8' })).toThrow(/U8's range \[0, 255\]/);
    expect(() => encodeSafetensors(x(2), {}, { dtype: 'BOOL' })).toThrow(/BOOL's range \{0, 1\}/);
    expect(() => encodeSafetensors(x(2 ** 63), {}, { dtype: 'I64' })).toThrow(/I64's range/);
    expect(() => encodeSafetensors(x(NaN), {}, { dtype: 'I64' })).toThrow(/holds NaN/);
    expect(() => encodeSafetensors(x(1), {}, { dtype: 'F8' as SafetensorsDtype })).toThrow(/dtype of 'x' must be one of F64, F32/);
    expect(() => encodeSafetensors(x(1), {}, { dtypes: { y: 'I64' } })).toThrow(/options.dtypes names 'y', which is not among the tensors/);
    expect(() => encodeSafetensors(x(1), {}, { dtyp: 'F16' } as never)).toThrow(/unknown option 'dtyp' \(did you mean 'dtype'\?\)/);
  });
});

describe('float16 by its definition (independent of numpy)', () => {
  it('decodes all 65536 patterns as sign * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024', () => {
    for (let h = 0; h < 0x10000; h++) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 31;
      const m = h & 1023;
      const want = e === 31 ? (m === 0 ? s * Infinity : NaN) : e === 0 ? s * 2 ** -14 * (m / 1024) : s * 2 ** (e - 15) * (1 + m / 1024);
      const got = float16BitsToFloat32(h);
      if (!Object.is(got, want)) expect.fail(`0x${h.toString(16)}: got ${got}, expected ${want}`);
      // and every finite or infinite pattern encodes back to itself
      if (!Number.isNaN(want) && float32ToFloat16Bits(got) !== h) expect.fail(`0x${h.toString(16)} does not encode back`);
    }
  });
});
