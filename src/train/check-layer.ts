/** The model argument of the batch-norm tools must be a Layer (a Sequential or a single layer). */
import { Layer } from '../layers/layer.js';
import { describeValue } from '../tensor/check.js';

/** Throws unless `model` is a Layer, naming `op`. */
export function checkLayer(op: string, model: unknown): void {
  if (!(model instanceof Layer)) throw new Error(`${op}: model must be a Layer or Sequential, got ${describeValue(model)}`);
}
