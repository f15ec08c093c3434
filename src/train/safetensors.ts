/**
 * The safetensors byte format (https://github.com/huggingface/safetensors):
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  UTF-8 JSON: { "__metadata__": { string: string },
 *                            "name": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, ... }
 *              padded with spaces so N % 8 == 0 and the data starts 8-byte aligned
 *   [rest]     the tensors' values, little-endian, back to back;
 *              offsets count from the start of this section
 *
 * Every dtype of safetensors-dtypes.ts is read (F64, F32, F16, BF16, I64, I32,
 * I16, I8, U8, BOOL) and converted to float32 exactly, or refused where float32
 * cannot carry a value; F32 is written by default, any of them on request.
 *
 * Like the reference writer, tensors are laid out in name order (code point
 * order, the same as Rust's byte order), so the same tensors always give the
 * same file. We add a CRC-32 of the data section to `__metadata__` under
 * `normgrad.crc32` and check it on decode when present (files from other
 * writers have none). No Buffer, no Node modules: this file also runs in a
 * browser. Values go through DataView when the host is big-endian.
 */
import type { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../tensor/options.js';
import { dtypeToFloat32, float32ToDtype, isSafetensorsDtype, SAFETENSORS_DTYPES, type SafetensorsDtype } from './safetensors-dtypes.js';
import { checkTensor, describeValue } from '../tensor/check.js';
import { crc32 } from './crc32.js';
import { CRC32_METADATA_KEY, METADATA, readSafetensors, type RawSafetensor } from './safetensors-read.js';

// Reading and checking a file's header and layout is in safetensors-read.ts; the CRC-32 in crc32.ts.
export { crc32 } from './crc32.js';
export { CRC32_METADATA_KEY, readSafetensors, type RawSafetensor } from './safetensors-read.js';

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A tensor as decoded from a file: a fresh Float32Array that the caller owns, and the dtype it was stored as. */
export interface DecodedTensor {
  /** The tensor's shape. */
  shape: number[];
  /** The values, row-major. */
  data: Float32Array;
  /** The dtype the file stored it as (the values are converted to float32 exactly). */
  dtype: SafetensorsDtype;
}

/** Options of `encodeSafetensors`: the element type to write. */
export interface EncodeSafetensorsOptions {
  /** The dtype of every tensor (default 'F32'); 'F16' and 'BF16' halve the file (values rounded to nearest even). */
  dtype?: SafetensorsDtype;
  /** Per-name dtypes that override `dtype`, e.g. `{ 'bn.num_batches_tracked': 'I64' }`. */
  dtypes?: Record<string, SafetensorsDtype>;
}

/** What `decodeSafetensors` returns; `metadata` includes `normgrad.crc32` when the file has it. */
export interface DecodedSafetensors {
  /** Every tensor in the file, by name. */
  tensors: Map<string, DecodedTensor>;
  /** The header's `__metadata__` strings. */
  metadata: Record<string, string>;
}

/**
 * Writes `src` into `dst` at `byteOffset` as little-endian float32. Exported
 * so tests can force the DataView path (`littleEndianHost = false`) that
 * big-endian hosts take; not part of the public API.
 */
export function writeFloat32LE(dst: Uint8Array, byteOffset: number, src: Float32Array, littleEndianHost = HOST_IS_LITTLE_ENDIAN): void {
  if (littleEndianHost) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), byteOffset);
    return;
  }
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length); // bit patterns, so NaN payloads survive
  const view = new DataView(dst.buffer, dst.byteOffset + byteOffset, src.byteLength);
  for (let i = 0; i < bits.length; i++) view.setUint32(4 * i, bits[i]!, true);
}

/** Reads little-endian float32 bytes into a new Float32Array (see `writeFloat32LE`); not part of the public API. */
export function readFloat32LE(src: Uint8Array, littleEndianHost = HOST_IS_LITTLE_ENDIAN): Float32Array {
  // new Uint8Array(src) always copies (Buffer's slice() would not), giving an aligned, owned buffer.
  if (littleEndianHost) return new Float32Array(new Uint8Array(src).buffer);
  const bits = new Uint32Array(src.length / 4);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < bits.length; i++) bits[i] = view.getUint32(4 * i, true);
  return new Float32Array(bits.buffer);
}

/**
 * Encodes float32 tensors (and optional string metadata) as a safetensors
 * file, as F32 unless `options` asks for another dtype (a value that dtype
 * cannot hold is an error: F16 above 65504, a fraction for an integer dtype).
 * The CRC-32 of the data section is added to the metadata under
 * `normgrad.crc32`, so that key may not be passed in. The tensors' values are
 * copied: later changes to them do not affect the returned bytes.
 */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}, options: EncodeSafetensorsOptions = {}): Uint8Array {
  if (!(tensors instanceof Map)) throw new Error(`encodeSafetensors: tensors must be a Map from names to Tensors, got ${describeValue(tensors)}`);
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error(`encodeSafetensors: metadata must be an object of strings, got ${describeValue(metadata)}`);
  }
  for (const [name, t] of tensors) checkTensor('encodeSafetensors', t, `tensor '${String(name)}'`);
  checkOptions('encodeSafetensors', options, ['dtype', 'dtypes']);
  const dtypeOf = (name: string): SafetensorsDtype => {
    const dtype = options.dtypes?.[name] ?? options.dtype ?? 'F32';
    if (!isSafetensorsDtype(dtype)) throw new Error(`encodeSafetensors: dtype of '${name}' must be one of ${SAFETENSORS_DTYPES.join(', ')}, got ${JSON.stringify(dtype)}`);
    return dtype;
  };
  for (const name of Object.keys(options.dtypes ?? {})) {
    if (!tensors.has(name)) throw new Error(`encodeSafetensors: options.dtypes names '${name}', which is not among the tensors`);
  }
  const names = [...tensors.keys()].sort(compareCodePoints);
  const fail = (message: string): never => {
    throw new Error(`encodeSafetensors: ${message}`);
  };
  let dataLength = 0;
  const entries: string[] = [];
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    if (name === '' || name === METADATA) throw new Error(`encodeSafetensors: '${name}' is not a valid tensor name`);
    const t = tensors.get(name)!;
    const dtype = dtypeOf(name);
    const chunk = dtype === 'F32' ? new Uint8Array(t.data.byteLength) : float32ToDtype(dtype, t.data, name, fail);
    if (dtype === 'F32') writeFloat32LE(chunk, 0, t.data);
    const info = { dtype, shape: [...t.shape], data_offsets: [dataLength, dataLength + chunk.length] };
    entries.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    chunks.push(chunk);
    dataLength += chunk.length;
  }
  const data = new Uint8Array(dataLength);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }

  if (Object.hasOwn(metadata, CRC32_METADATA_KEY)) {
    throw new Error(`encodeSafetensors: metadata key '${CRC32_METADATA_KEY}' is reserved; the CRC-32 is computed here`);
  }
  const meta: Record<string, string> = { ...metadata, [CRC32_METADATA_KEY]: crc32(data).toString(16).padStart(8, '0') };
  const metaEntries = Object.keys(meta).sort(compareCodePoints).map((key) => {
    const value = meta[key];
    if (typeof value !== 'string') throw new Error(`encodeSafetensors: metadata '${key}' must be a string, got ${typeof value}`);
    return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  });
  entries.unshift(`${JSON.stringify(METADATA)}:{${metaEntries.join(',')}}`);

  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + dataLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true); // N < 2^32 in practice: high word stays 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  out.set(data, 8 + headerLength);
  return out;
}

/**
 * Decodes a safetensors file of any supported dtype into float32 tensors (see
 * safetensors-dtypes.ts for the exact conversions and what is refused),
 * checking everything before returning: the header length, the JSON, each
 * dtype, shape and offset, that the tensors tile the data section exactly (no
 * gaps, overlaps or trailing bytes) and the CRC-32 when the file records one.
 * Errors start with `errorPrefix` (callers pass their own name, e.g.
 * 'loadCheckpoint'). Each tensor's data is a fresh copy; `bytes` may be any
 * typed array (a Node Buffer too) or an ArrayBuffer.
 */
export function decodeSafetensors(input: ArrayBufferView | ArrayBufferLike, errorPrefix = 'decodeSafetensors'): DecodedSafetensors {
  const { tensors: raw, metadata } = readSafetensors(input, errorPrefix);
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, entry] of raw) tensors.set(name, { shape: entry.shape, dtype: entry.dtype, data: rawToFloat32(entry, name, errorPrefix) });
  return { tensors, metadata };
}

/** A raw entry's values as a fresh Float32Array, exactly, or an error starting with `errorPrefix` (see safetensors-dtypes.ts). */
export function rawToFloat32(entry: RawSafetensor, name: string, errorPrefix = 'decodeSafetensors'): Float32Array {
  if (entry.dtype === 'F32') return readFloat32LE(entry.bytes);
  return dtypeToFloat32(entry.dtype, entry.bytes, name, (message) => {
    throw new Error(`${errorPrefix}: ${message}`);
  });
}

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes (JS `<` compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const ca = Array.from(a, (ch) => ch.codePointAt(0)!);
  const cb = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
  return ca.length - cb.length;
}
