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
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

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
  /** The optimizer whose state (Adam's m, v, step...) is saved or restored with the model. */
  optimizer?: HasOptimizerState;
}

/** The name prefix under which optimizer state is stored in a checkpoint. */
export const OPTIMIZER_PREFIX = 'optimizer/';

// Set on save when an optimizer was passed, so an optimizer with no state yet still round-trips.
const OPTIMIZER_MARKER = 'normgrad.optimizer';
const MAX_LISTED_PROBLEMS = 10;

/** Encodes the model's state (and the optimizer's, if given) as safetensors bytes. */
export function toBytes(model: HasState, options: CheckpointOptions = {}): Uint8Array {
  return encodeCheckpoint(model, options, 'toBytes');
}

/**
 * Restores state from `toBytes` output into the model's live tensors, all or
 * nothing. Optimizer entries in the file are ignored unless an optimizer is
 * passed (loading a training checkpoint for inference just works).
 */
export function fromBytes(model: HasState, bytes: Uint8Array, options: CheckpointOptions = {}): void {
  restore(model, bytes, options, 'fromBytes');
}

/** The checkpoint bytes of `model` (and `options.optimizer`); `op` names the caller in errors. */
export function encodeCheckpoint(model: HasState, options: CheckpointOptions, op: string): Uint8Array {
  const state = liveState(model, op, 'saving');
  const all = new Map(state);
  const metadata: Record<string, string> = {};
  if (options.optimizer) {
    const paramNames = new Map<Tensor, string>();
    for (const [name, t] of state) paramNames.set(t, name);
    for (const [name, t] of options.optimizer.stateDict(paramNames)) all.set(OPTIMIZER_PREFIX + name, t);
    metadata[OPTIMIZER_MARKER] = 'included';
  }
  return encodeSafetensors(all, metadata);
}

/** Checks `bytes` against `model` (and `options.optimizer`), then restores them all or nothing; `op` names the caller in errors. */
export function restore(model: HasState, bytes: Uint8Array, options: CheckpointOptions, op: string): void {
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
