/**
 * The safetensors element types normgrad reads and writes, and their exact
 * conversions to and from float32 (normgrad's one element type).
 *
 * Reading (any dtype -> float32) is exact or refused:
 *   F32, F16, BF16, I8, U8, I16, BOOL   every value is a float32: exact
 *   I32, I64   exact for |v| <= 2^24; beyond, some integers have no float32,
 *              so any |v| > 2^24 is an error naming the tensor and the index
 *   F64        rounded to nearest (what PyTorch's .float() does); a finite value
 *              that would round to +-Infinity (|v| > float32's max) is an error;
 *              NaN and +-Infinity stay what they are
 *   BOOL       a byte 0 or 1; any other byte is an error
 *
 * Writing (float32 -> dtype) keeps the value or refuses:
 *   F16, BF16  round to nearest, ties to even (IEEE 754, numpy, PyTorch); a finite
 *              value that would round to Infinity is an error. NaN stays NaN
 *   F64        exact
 *   integers   the value must be an integer in the dtype's range
 *
 * Everything goes through DataView little-endian reads and writes, so it is
 * the same on any host.
 */

/** A safetensors element type normgrad reads (all of them) and writes. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Every dtype normgrad reads, in the order of `DTYPE_BYTES`. */
export const SAFETENSORS_DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];

/** Whether `value` names a supported dtype. */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

// [lowest, highest + 1) of each integer dtype, and how an error message writes it.
const INT_RANGE: Partial<Record<SafetensorsDtype, [number, number, string]>> = {
  I64: [-(2 ** 63), 2 ** 63, '[-2^63, 2^63 - 1]'], I32: [-(2 ** 31), 2 ** 31, '[-2^31, 2^31 - 1]'], I16: [-32768, 32768, '[-32768, 32767]'],
  I8: [-128, 128, '[-128, 127]'], U8: [0, 256, '[0, 255]'], BOOL: [0, 2, '{0, 1}'],
};
const F32_EXACT_INTEGERS = 2 ** 24;
const F32_EXACT_INTEGERS_BIG = BigInt(F32_EXACT_INTEGERS);
const F32_BITS = new Uint32Array(1);
const F32_VALUE = new Float32Array(F32_BITS.buffer);

const f32FromBits = (bits: number): number => {
  F32_BITS[0] = bits;
  return F32_VALUE[0]!;
};
const bitsOfF32 = (value: number): number => {
  F32_VALUE[0] = value;
  return F32_BITS[0]!;
};

/**
 * IEEE binary16 bits -> float32 bits, exactly. binary16 is sign | 5-bit exponent
 * (bias 15) | 10-bit fraction: subnormal m * 2^-24, normal (1024 + m) * 2^(e - 25).
 * Infinity and NaN keep their sign and payload (shifted into float32's fraction):
 * bits, not a number, because a JavaScript number quiets a signalling NaN.
 */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  return (sign | bitsOfF32(e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25))) >>> 0;
}

/** IEEE binary16 bits -> float32 value (see `float16BitsToFloat32Bits`). */
export function float16BitsToFloat32(h: number): number {
  return f32FromBits(float16BitsToFloat32Bits(h));
}

/**
 * float32 value -> IEEE binary16 bits, round to nearest, ties to even, or null
 * when a finite value rounds to Infinity (|x| >= 65520). NaN becomes a quiet NaN
 * keeping the top of its payload.
 */
export function float32ToFloat16Bits(x: number): number | null {
  const f = bitsOfF32(x);
  const sign = (f >>> 16) & 0x8000;
  const abs = f & 0x7fffffff;
  if (abs >= 0x7f800000) return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >> 13) & 0x3ff);
  if (abs >= 0x477ff000) return null; // 65520 = 65504 + half an ulp: rounds to Infinity
  if (abs < 0x38800000) return sign | roundHalfEven(f32FromBits(abs) * 2 ** 24); // subnormal (or 0): m * 2^-24
  let h = (((abs >> 23) - 112) << 10) | ((abs >> 13) & 0x3ff); // rebias the exponent 127 -> 15, keep 10 fraction bits
  const rest = abs & 0x1fff; // the 13 dropped bits
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is right
  return sign | h;
}

/** bfloat16 bits (the top half of a float32) -> float32 value, exactly, NaN payload included. */
export function bfloat16BitsToFloat32(b: number): number {
  return f32FromBits((b & 0xffff) << 16);
}

/**
 * float32 value -> bfloat16 bits: drop the low 16 bits rounding to nearest, ties
 * to even (add 0x7fff plus the kept lowest bit), or null when a finite value
 * rounds to Infinity. NaN stays NaN (quiet, sign kept).
 */
export function float32ToBfloat16Bits(x: number): number | null {
  const f = bitsOfF32(x);
  if ((f & 0x7fffffff) > 0x7f800000) return (f >>> 16) | 0x0040;
  const b = ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
  return (b & 0x7fff) === 0x7f80 && (f & 0x7fffffff) !== 0x7f800000 ? null : b;
}

/** Nearest integer to x >= 0, ties to even (x is exact in float64 here). */
function roundHalfEven(x: number): number {
  const lo = Math.floor(x);
  const d = x - lo;
  return d > 0.5 || (d === 0.5 && lo % 2 === 1) ? lo + 1 : lo;
}

/**
 * Little-endian `bytes` of `dtype` -> float32 values, exactly or not at all:
 * `fail` is called (and must throw) for a value float32 cannot carry (see the
 * table at the top). `name` is the tensor's name, for the error.
 */
export function dtypeToFloat32(dtype: SafetensorsDtype, bytes: Uint8Array, name: string, fail: (message: string) => never): Float32Array {
  const n = bytes.length / DTYPE_BYTES[dtype];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  const outBits = new Uint32Array(out.buffer);
  const tooBig = (i: number, value: bigint | number): never =>
    fail(`tensor '${name}' (${dtype}) holds ${value} at index ${i}; float32 is exact only for integers up to 2^24 = ${F32_EXACT_INTEGERS} in magnitude`);
  switch (dtype) {
    case 'F32': for (let i = 0; i < n; i++) outBits[i] = v.getUint32(4 * i, true); break;
    case 'F16': for (let i = 0; i < n; i++) outBits[i] = float16BitsToFloat32Bits(v.getUint16(2 * i, true)); break;
    case 'BF16': for (let i = 0; i < n; i++) outBits[i] = v.getUint16(2 * i, true) << 16; break;
    case 'F64':
      for (let i = 0; i < n; i++) {
        const x = v.getFloat64(8 * i, true);
        out[i] = x;
        if (Number.isFinite(x) && !Number.isFinite(out[i]!)) {
          fail(`tensor '${name}' (F64) holds ${x} at index ${i}, beyond float32's largest finite value 3.4028234663852886e38`);
        }
      }
      break;
    case 'I64':
      for (let i = 0; i < n; i++) {
        const x = v.getBigInt64(8 * i, true);
        if (x > F32_EXACT_INTEGERS_BIG || x < -F32_EXACT_INTEGERS_BIG) tooBig(i, x);
        out[i] = Number(x);
      }
      break;
    case 'I32':
      for (let i = 0; i < n; i++) {
        const x = v.getInt32(4 * i, true);
        if (Math.abs(x) > F32_EXACT_INTEGERS) tooBig(i, x);
        out[i] = x;
      }
      break;
    case 'I16': for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, true); break;
    case 'I8': for (let i = 0; i < n; i++) out[i] = v.getInt8(i); break;
    case 'U8': for (let i = 0; i < n; i++) out[i] = v.getUint8(i); break;
    case 'BOOL':
      for (let i = 0; i < n; i++) {
        const x = v.getUint8(i);
        if (x > 1) fail(`tensor '${name}' (BOOL) holds the byte ${x} at index ${i}; a BOOL byte must be 0 or 1`);
        out[i] = x;
      }
      break;
  }
  return out;
}

/**
 * float32 values -> little-endian bytes of `dtype`, keeping every value or
 * calling `fail` (which must throw): an F16/BF16 overflow, a non-integer or
 * out-of-range value for an integer dtype.
 */
export function float32ToDtype(dtype: SafetensorsDtype, data: Float32Array, name: string, fail: (message: string) => never): Uint8Array {
  const n = data.length;
  const out = new Uint8Array(n * DTYPE_BYTES[dtype]);
  const v = new DataView(out.buffer);
  const half = (convert: (x: number) => number | null, largest: string): void => {
    for (let i = 0; i < n; i++) {
      const bits = convert(data[i]!);
      if (bits === null) fail(`tensor '${name}' holds ${data[i]} at index ${i}, beyond ${dtype}'s largest finite value ${largest}`);
      v.setUint16(2 * i, bits, true);
    }
  };
  switch (dtype) {
    case 'F32': for (let i = 0; i < n; i++) v.setFloat32(4 * i, data[i]!, true); return out;
    case 'F64': for (let i = 0; i < n; i++) v.setFloat64(8 * i, data[i]!, true); return out;
    case 'F16': half(float32ToFloat16Bits, '65504'); return out;
    case 'BF16': half(float32ToBfloat16Bits, '3.3895313892515355e38'); return out;
    default: break;
  }
  const [lo, end, range] = INT_RANGE[dtype]!;
  for (let i = 0; i < n; i++) {
    const x = data[i]!;
    if (!Number.isInteger(x) || x < lo || x >= end) fail(`tensor '${name}' holds ${x} at index ${i}, which is not an integer in ${dtype}'s range ${range}`);
    if (dtype === 'I64') v.setBigInt64(8 * i, BigInt(x), true);
    else if (dtype === 'I32') v.setInt32(4 * i, x, true);
    else if (dtype === 'I16') v.setInt16(2 * i, x, true);
    else if (dtype === 'I8') v.setInt8(i, x);
    else v.setUint8(i, x);
  }
  return out;
}
