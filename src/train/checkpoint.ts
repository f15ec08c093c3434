/**
 * Model checkpoints as safetensors files (see safetensors.ts for the bytes).
 *
 * A checkpoint holds every entry of `model.stateDict()` under its own name
 * (parameters and batch norm's moving statistics alike) and, when an
 * optimizer is passed, the optimizer's state under `optimizer/<its name>`.
 *
 * Loading is all-or-nothing: decode and check everything (CRC-32, every name,
 * every shape, the optimizer's entries), let the optimizer validate and take
 * its state, and only then copy values into the live tensors in place. A bad
 * file leaves the model exactly as it was.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { checkOneOf } from '../tensor/options.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { AtomicWriteError, writeFileAtomic } from './atomic-write.js';
import { fromPytorchStateDict, toPytorchStateDict } from '../interop/pytorch/state-dict.js';
import { Layer } from '../layers/layer.js';
import { decodeSafetensors, encodeSafetensors, rawToFloat32, readSafetensors } from './safetensors.js';
import { asBytes, checkHasState } from './as-bytes.js';

/** Anything with named state: a layer or a Sequential. Names look like 'conv3/kernel', 'bn3/movingMean'. */
export interface HasState {
  /** Every tensor that defines the model, by stable name (see `Layer.stateDict`). */
  stateDict(): Map<string, Tensor>;
}

/** An optimizer whose slots (Adam's m, v, step) can be saved and restored, keyed by parameter name. */
export interface HasOptimizerState {
  /** The optimizer's tensors, e.g. 'adam/conv3/kernel/m', 'adam/step'; `paramNames` maps each model tensor to its name. */
  stateDict(paramNames: Map<Tensor, string>): Map<string, Tensor>;
  /** Takes saved entries back; `params` maps names to the live model tensors. Must validate before changing anything. */
  loadStateDict(entries: Map<string, Tensor>, params: Map<string, Tensor>): void;
}

/** Options for saving and loading: pass the optimizer to include its state. */
export interface CheckpointOptions {
  optimizer?: HasOptimizerState;
  /**
   * Saving only: the element type of the model's tensors (default 'F32'; 'F16' or
   * 'BF16' halve the file, rounding to nearest even). Optimizer state stays F32.
   * Loading reads every safetensors dtype whatever this says.
   */
  dtype?: 'F32' | 'F16' | 'BF16';
  /**
   * 'pytorch': PyTorch's names and layouts (`features.0.weight` OIHW, Linear [out, in],
   * BN running_mean/running_var/num_batches_tracked), the state dict of the module
   * `pytorchModuleSource(model)` writes; no optimizer state. Default 'normgrad'.
   */
  layout?: 'normgrad' | 'pytorch';
}

/** The name prefix under which optimizer state is stored in a checkpoint. */
export const OPTIMIZER_PREFIX = 'optimizer/';

// Set on save when an optimizer was passed, so an optimizer with no state yet still round-trips.
const OPTIMIZER_MARKER = 'normgrad.optimizer';
const MAX_LISTED_PROBLEMS = 10;

/** Encodes the model's state (and the optimizer's, if given) as safetensors bytes. */
export function toBytes(model: HasState, options: CheckpointOptions = {}): Uint8Array {
  checkHasState('toBytes', model);
  return encodeCheckpoint(model, options, 'toBytes');
}

/**
 * Restores state from `toBytes` output into the model's live tensors, all or
 * nothing. Optimizer entries in the file are ignored unless an optimizer is
 * passed (loading a training checkpoint for inference just works). `bytes`
 * may be a Uint8Array (a Node Buffer), another typed array, or an ArrayBuffer.
 */
export function fromBytes(model: HasState, bytes: ArrayBufferView | ArrayBufferLike, options: CheckpointOptions = {}): void {
  checkHasState('fromBytes', model);
  restore(model, asBytes('fromBytes', bytes), options, 'fromBytes');
}

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

function encodeCheckpoint(model: HasState, options: CheckpointOptions, op: string): Uint8Array {
  const dtype = checkOneOf(op, 'dtype', options.dtype ?? 'F32', ['F32', 'F16', 'BF16']);
  if (pytorchLayout(model, options, op)) {
    const { tensors, int64 } = toPytorchStateDict(model, op);
    return encodeSafetensors(tensors, { format: 'pt' }, { dtype, dtypes: Object.fromEntries(int64.map((name) => [name, 'I64'])) });
  }
  const state = liveState(model, op, 'saving');
  const all = new Map(state);
  const metadata: Record<string, string> = {};
  if (options.optimizer) {
    const paramNames = new Map<Tensor, string>();
    for (const [name, t] of state) paramNames.set(t, name);
    for (const [name, t] of options.optimizer.stateDict(paramNames)) all.set(OPTIMIZER_PREFIX + name, t);
    metadata[OPTIMIZER_MARKER] = 'included';
  }
  return encodeSafetensors(all, metadata, { dtypes: Object.fromEntries([...state.keys()].map((name) => [name, dtype])) });
}

function restore(model: HasState, bytes: Uint8Array, options: CheckpointOptions, op: string): void {
  if (pytorchLayout(model, options, op)) {
    const saved = new Map([...readSafetensors(bytes, op).tensors].map(([name, raw]) => [name, { ...raw, values: () => rawToFloat32(raw, name, op) }]));
    for (const [t, values] of fromPytorchStateDict(model, saved, op)) t.data.set(values);
    return;
  }
  const live = liveState(model, op, 'loading');
  const { tensors: saved, metadata } = decodeSafetensors(bytes, op);

  const problems: string[] = [];
  for (const [name, t] of live) {
    const s = saved.get(name);
    if (s === undefined) problems.push(`missing tensor '${name}'`);
    else if (!sameShape(s.shape, t.shape)) {
      problems.push(`'${name}' has shape ${formatShape(s.shape)} in the file but ${formatShape(t.shape)} in the model`);
    }
  }
  const optimizerEntries = new Map<string, Tensor>();
  for (const [name, s] of saved) {
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizerEntries.set(name.slice(OPTIMIZER_PREFIX.length), new Tensor(s.data, s.shape));
    else if (!live.has(name)) problems.push(`unexpected tensor '${name}'`);
  }
  if (options.optimizer && optimizerEntries.size === 0 && metadata[OPTIMIZER_MARKER] === undefined) {
    problems.push(
      `an optimizer was passed but the file has no optimizer state (no '${OPTIMIZER_PREFIX}...' tensors); ` +
        'save with { optimizer } to include it, or load without { optimizer } to restore only the model',
    );
  }
  if (problems.length > 0) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS).join('; ');
    const more = problems.length > MAX_LISTED_PROBLEMS ? ` (and ${problems.length - MAX_LISTED_PROBLEMS} more)` : '';
    throw new Error(`${op}: ${listed}${more}`);
  }

  if (options.optimizer) {
    try {
      options.optimizer.loadStateDict(optimizerEntries, live);
    } catch (e) {
      throw new Error(`${op}: the optimizer rejected its saved state: ${(e as Error).message}`, { cause: e });
    }
  }
  for (const [name, t] of live) t.data.set(saved.get(name)!.data);
}

/** Whether `options` asks for PyTorch's layout, which needs a layer (its kinds and order) and no optimizer. */
function pytorchLayout(model: HasState, options: CheckpointOptions, op: string): model is Layer {
  if (checkOneOf(op, 'layout', options.layout ?? 'normgrad', ['normgrad', 'pytorch']) === 'normgrad') return false;
  if (!(model instanceof Layer)) throw new Error(`${op}: { layout: 'pytorch' } needs a normgrad Layer or Sequential`);
  if (options.optimizer) throw new Error(`${op}: { layout: 'pytorch' } holds the model only; PyTorch keeps optimizer state apart (optimizer.state_dict())`);
  return true;
}

/** The model's state dict, refusing an unbuilt model and names that collide with the optimizer prefix. */
function liveState(model: HasState, op: string, action: string): Map<string, Tensor> {
  const state = model.stateDict();
  if (state.size === 0) {
    throw new Error(
      `${op}: the model has no state yet, so there is nothing to ${action === 'saving' ? 'save' : 'load into'}. ` +
        'Layers create their weights on their first call: call the model once on a sample input ' +
        `(e.g. model.call(x, { isTraining: false })) before ${action} a checkpoint`,
    );
  }
  for (const name of state.keys()) {
    if (name.startsWith(OPTIMIZER_PREFIX)) {
      throw new Error(`${op}: model tensor '${name}' uses the prefix '${OPTIMIZER_PREFIX}', which is reserved for optimizer state`);
    }
  }
  return state;
}
