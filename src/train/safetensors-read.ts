/**
 * Reading a safetensors file's header and layout (the format is drawn in
 * safetensors.ts): the 8-byte length, the JSON header, each tensor's dtype,
 * shape and offsets, that the tensors tile the data section exactly, and the
 * CRC-32 when the file records one. Values stay bytes here; decodeSafetensors
 * converts them to float32.
 */
import { formatShape, sizeOf } from '../tensor/shape.js';
import { asBytes } from './as-bytes.js';
import { crc32 } from './crc32.js';
import { DTYPE_BYTES, isSafetensorsDtype, SAFETENSORS_DTYPES, type SafetensorsDtype } from './safetensors-dtypes.js';

/** The `__metadata__` key under which the data section's CRC-32 is stored (8 lowercase hex digits). */
export const CRC32_METADATA_KEY = 'normgrad.crc32';

/** A tensor's entry before conversion: its dtype, shape and little-endian bytes (a view into the file). */
export interface RawSafetensor {
  /** The stored element type. */
  dtype: SafetensorsDtype;
  /** The tensor's shape. */
  shape: number[];
  /** The little-endian values, a view into the decoded file (not a copy). */
  bytes: Uint8Array;
}

/** The header key of the string metadata. */
export const METADATA = '__metadata__';
const MAX_HEADER_BYTES = 100_000_000; // the reference reader's limit

/**
 * Checks a safetensors file as `decodeSafetensors` does but leaves the values
 * as bytes (views into `bytes`), for callers that convert entries one by one
 * (PyTorch's int64 `num_batches_tracked` needs no float32).
 */
export function readSafetensors(input: ArrayBufferView | ArrayBufferLike, errorPrefix = 'decodeSafetensors'): { tensors: Map<string, RawSafetensor>; metadata: Record<string, string> } {
  const bytes = asBytes(errorPrefix, input);
  const fail: (message: string) => never = (message) => {
    throw new Error(`${errorPrefix}: ${message}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) fail(`header length ${n} is beyond the end of the file (${bytes.length} bytes; truncated?)`);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message}); this is not a safetensors file or it is corrupt`);
  }
  if (!isPlainObject(header)) fail('header is not a JSON object');

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const layout: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA) {
      metadata = parseMetadata(info, fail);
      continue;
    }
    if (!isPlainObject(info)) fail(`tensor '${name}' has no {dtype, shape, data_offsets} entry`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (!isSafetensorsDtype(dtype)) fail(`tensor '${name}' has dtype ${JSON.stringify(dtype)}, but normgrad reads only ${SAFETENSORS_DTYPES.join(', ')}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    if (end < begin) fail(`tensor '${name}' has data_offsets [${begin},${end}] that end before they begin`);
    if (end > dataLength) {
      fail(`tensor '${name}' has data_offsets [${begin},${end}] out of range: the data section is ${dataLength} bytes (truncated?)`);
    }
    const size = DTYPE_BYTES[dtype] * sizeOf(dims);
    if (end - begin !== size) {
      fail(`tensor '${name}' has ${dtype} shape ${formatShape(dims)} (${size} bytes) but data_offsets [${begin},${end}] hold ${end - begin} bytes`);
    }
    layout.push({ name, dtype, shape: dims, begin, end });
  }

  layout.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const { name, begin, end } of layout) {
    if (begin < expected) fail(`tensor '${name}' at [${begin},${end}] overlaps the tensor before it (which ends at ${expected})`);
    if (begin > expected) fail(`gap in the data section: bytes [${expected},${begin}) belong to no tensor (before '${name}')`);
    expected = end;
  }
  if (expected !== dataLength) fail(`${dataLength - expected} trailing bytes after the last tensor`);

  const data = bytes.subarray(dataStart);
  const recorded = metadata[CRC32_METADATA_KEY];
  if (recorded !== undefined) {
    const actual = crc32(data).toString(16).padStart(8, '0');
    if (recorded !== actual) {
      fail(`checkpoint is corrupt: CRC-32 of the data is ${actual} but the header records ${JSON.stringify(recorded)}`);
    }
  }

  const tensors = new Map<string, RawSafetensor>();
  for (const { name, dtype, shape, begin, end } of layout) tensors.set(name, { dtype, shape, bytes: data.subarray(begin, end) });
  return { tensors, metadata };
}

function parseMetadata(value: unknown, fail: (message: string) => never): Record<string, string> {
  if (!isPlainObject(value)) fail('__metadata__ must be an object of strings');
  const entries = Object.entries(value);
  for (const [key, v] of entries) {
    if (typeof v !== 'string') fail(`__metadata__ '${key}' must be a string, got ${JSON.stringify(v)}`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
