/**
 * Checkpoint files (Node only): saveCheckpoint writes `toBytes` output
 * atomically, loadCheckpoint reads a file and restores it like `fromBytes`.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { AtomicWriteError, writeFileAtomic } from './atomic-write.js';
import { checkHasState } from './as-bytes.js';
import { encodeCheckpoint, restore, type CheckpointOptions, type HasState } from './checkpoint.js';

/**
 * Writes a checkpoint to `path` atomically: a crash leaves the old file or the new one, never a torn one.
 * The file is safetensors: every `model.stateDict()` entry (BN's moving statistics included)
 * and, with `{ optimizer }`, the optimizer's state under `optimizer/...`.
 *
 * @example
 * saveCheckpoint(model, 'model.safetensors', { optimizer: adam });
 * // later, in another process, with the same architecture:
 * const restored = buildModel();
 * restored.call(sampleBatch, { isTraining: false });       // build the weights first
 * loadCheckpoint(restored, 'model.safetensors');            // weights and moving statistics
 * loadCheckpoint(restored, 'model.safetensors', { optimizer: new Adam() }); // to resume training
 */
export function saveCheckpoint(model: HasState, path: string, options: CheckpointOptions = {}): void {
  checkHasState('saveCheckpoint', model);
  const bytes = encodeCheckpoint(model, options, 'saveCheckpoint');
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    const reason = e instanceof AtomicWriteError ? e.reason : (e as Error).message;
    throw new Error(`saveCheckpoint: cannot write '${path}': ${reason}`, { cause: e });
  }
}

/**
 * Reads a checkpoint from `path` into the model (and optimizer), all or
 * nothing; see `fromBytes`. Only a regular file is read (a FIFO or a device
 * such as /dev/zero is refused rather than waited on or read forever), and
 * the sizes its header declares are checked against the file's size before
 * the data is read.
 */
export function loadCheckpoint(model: HasState, path: string, options: CheckpointOptions = {}): void {
  checkHasState('loadCheckpoint', model);
  restore(model, readCheckpointFile(path), options, 'loadCheckpoint');
}

const MAX_HEADER_BYTES = 100_000_000; // as safetensors.ts and the reference reader

function readCheckpointFile(path: string): Uint8Array {
  const fail = (why: string, cause?: unknown): Error => new Error(`loadCheckpoint: cannot read '${path}': ${why}`, { cause });
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw fail((e as Error).message, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail(`it is ${fileKind(st)}, not a regular file`);
    const size = st.size;
    const readAt = (position: number, length: number): Uint8Array => {
      const out = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const n = readSync(fd, out, done, length - done, position + done);
        if (n === 0) throw fail(`the file shrank while it was read (${position + done} of ${size} bytes)`);
        done += n;
      }
      return out;
    };
    // [8 bytes N][N bytes JSON header][data]: check N, then the data size the header declares.
    if (size < 8) throw fail(`${size} bytes is too short for a safetensors header (8 bytes)`);
    const lengthBytes = readAt(0, 8);
    const view = new DataView(lengthBytes.buffer);
    const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      throw fail(`its header claims ${headerLength} bytes but the file has ${size} (truncated, or not a checkpoint)`);
    }
    const dataEnd = declaredDataEnd(readAt(8, headerLength));
    if (dataEnd !== null && 8 + headerLength + dataEnd !== size) {
      throw fail(`its header declares ${8 + headerLength + dataEnd} bytes but the file has ${size} (${size < 8 + headerLength + dataEnd ? 'truncated' : 'extra bytes at the end'})`);
    }
    return readAt(0, size);
  } finally {
    closeSync(fd);
  }
}

/** The largest data_offsets end in a safetensors header, or null if the header does not parse (decode then says why). */
function declaredDataEnd(header: Uint8Array): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(header));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  let end = 0;
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') continue;
    const offsets = (entry as { data_offsets?: unknown } | null)?.data_offsets;
    if (!Array.isArray(offsets) || typeof offsets[1] !== 'number') return null;
    end = Math.max(end, offsets[1]);
  }
  return end;
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}
