/**
 * The byte inputs the checkpoint readers accept: a Uint8Array (a Node Buffer
 * is one), any other ArrayBufferView (viewed, not copied) or an ArrayBuffer /
 * SharedArrayBuffer (as `fetch(...).arrayBuffer()` returns). Anything else is
 * an Error naming the caller.
 */
import { describeValue } from '../tensor/check.js';

/** `bytes` as a Uint8Array over the same memory, or an Error naming `op`. */
export function asBytes(op: string, bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && bytes instanceof SharedArrayBuffer)) {
    return new Uint8Array(bytes);
  }
  throw new Error(`${op}: bytes must be a Uint8Array, another typed array or an ArrayBuffer, got ${describeValue(bytes)}`);
}

/** Throws unless `model` has a `stateDict()` method (a Layer or Sequential). */
export function checkHasState(op: string, model: unknown): void {
  if (model === null || typeof model !== 'object' || typeof (model as { stateDict?: unknown }).stateDict !== 'function') {
    throw new Error(`${op}: model must have a stateDict() method (a Layer or Sequential), got ${describeValue(model)}`);
  }
}
