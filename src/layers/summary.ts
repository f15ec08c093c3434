/**
 * `model.summary()`: a Keras-like table of the layer tree.
 *
 *   Layer (path)      Kind        Output shape     Params
 *   conv1             conv2d      [?, 28, 28, 8]      72
 *   bn1               batchNorm   [?, 28, 28, 8]      32
 *   ...
 *   Total params: 1234   Trainable params: 1200   Non-trainable params: 34
 *
 * A layer's count is its own tensors plus its children's (each tensor once);
 * children are indented under their parent. Output shapes come from each
 * layer's last call, with the batch axis shown as '?'.
 */
import { noGrad } from '../autograd/graph.js';
import { zeros } from '../tensor/create.js';
import { checkOptions } from '../tensor/options.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { ownBuffers, ownWeights, type Layer } from './layer.js';
import { layerTree } from './tree.js';

/** Options of `summary()`. */
export interface SummaryOptions {
  /** Input shape without the batch axis; builds an unbuilt model by one inference call on zeros of shape [1, ...inputShape]. */
  inputShape?: Shape;
}

/** The output shape of each layer's last call (kept outside the layer so it is not a field). */
const outputShapes = new WeakMap<Layer, Shape>();

/** Remembers the shape a layer's call returned, for summary(). */
export function recordOutputShape(layer: Layer, y: Tensor): void {
  outputShapes.set(layer, y.shape);
}

/** See `Layer.summary`. */
export function summarize(model: Layer, opts: SummaryOptions): string {
  const op = `${model.name}.summary`;
  checkOptions(op, opts, ['inputShape']);
  if (opts.inputShape !== undefined) {
    const s = opts.inputShape;
    if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`${op}: inputShape must be an array of positive integers without the batch axis, e.g. [28, 28, 1]`);
    }
    noGrad(() => model.call(zeros([1, ...s]), { isTraining: false }));
  }
  const nodes = layerTree(model);
  const unbuilt = nodes.find((n) => !n.layer.isBuilt);
  if (unbuilt) {
    const where = unbuilt.path === '' ? `the model '${model.name}'` : `layer '${unbuilt.path}'`;
    throw new Error(`${op}: ${where} is not built; call the model once, or pass { inputShape } (without the batch axis) to build it`);
  }

  // Trainable = a weight of a layer that is trainable all the way up; the rest (buffers, frozen weights) is not.
  const trainable = new Set(model.parameters());
  const owner = new Map<Tensor, Layer>();
  for (const { layer } of nodes) for (const t of [...ownWeights(layer).values(), ...ownBuffers(layer).values()]) if (!owner.has(t)) owner.set(t, layer);
  const under = (i: number): number => {
    let n = 0;
    const depth = nodes[i]!.depth;
    for (let j = i; j < nodes.length && (j === i || nodes[j]!.depth > depth); j++) {
      for (const [t, l] of owner) if (l === nodes[j]!.layer) n += t.size;
    }
    return n;
  };
  const rows: string[][] = [['Layer (path)', 'Kind', 'Output shape', 'Params']];
  const start = nodes.length > 1 ? 1 : 0; // the root is the table itself
  for (let i = start; i < nodes.length; i++) {
    const { path, layer, depth } = nodes[i]!;
    const shape = outputShapes.get(layer);
    const label = path === '' ? layer.name : path;
    rows.push([`${'  '.repeat(Math.max(0, depth - 1))}${label}`, layer.kind, shape ? `[?, ${shape.slice(1).join(', ')}]`.replace('?, ]', '?]') : '(not called)', String(under(i))]);
  }
  let total = 0;
  let train = 0;
  for (const t of owner.keys()) {
    total += t.size;
    if (trainable.has(t)) train += t.size;
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('   ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [
    `Model: ${model.name} (${model.kind})`,
    rule,
    line(rows[0]!),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `Total params: ${total}`,
    `Trainable params: ${train}`,
    `Non-trainable params: ${total - train}`,
  ].join('\n');
}
