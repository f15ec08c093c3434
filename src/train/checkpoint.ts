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
 *
 * This file touches no file system (it runs in browsers too); the file
 * versions, saveCheckpoint and loadCheckpoint, are in checkpoint-file.ts.
 */
import { checkOneOf } from '../tensor/options.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
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
  /** The optimizer whose state (Adam's m, v and step, ...) is saved or restored with the model. */
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

/** The checkpoint bytes of `model` (and the optimizer's state): what toBytes and saveCheckpoint write. */
export function encodeCheckpoint(model: HasState, options: CheckpointOptions, op: string): Uint8Array {
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

/** Checks `bytes` against the model (and optimizer) and copies them in, all or nothing: fromBytes and loadCheckpoint. */
export function restore(model: HasState, bytes: Uint8Array, options: CheckpointOptions, op: string): void {
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
