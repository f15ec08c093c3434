/**
 * Finding layers inside a model: every layer of the tree (see tree.ts for how
 * children are found and named), or only the leaves, named by their
 * stateDict prefixes (`conv1`, `block2/bn1`, `blocks/0/conv`).
 */
import { BatchNorm } from './batch-norm.js';
import { Layer } from './layer.js';
import { layerTree } from './tree.js';

/**
 * A layer found inside a model, with its stateDict-style path.
 *
 * @example
 * { name: 'block2/bn1', layer: bn }
 */
export interface NamedLayer<L extends Layer = Layer> {
  /** Path of the layer, as in stateDict keys (`block1/bn1`). */
  name: string;
  /** The layer itself. */
  layer: L;
}

/**
 * Every layer of a model below the model itself, depth first in field order
 * (a parent before its children), each layer once, named by its path.
 *
 * @example
 * namedLayers(model).map((l) => l.name); // ['block1', 'block1/conv', 'block1/bn', ...]
 */
export function namedLayers(model: Layer): NamedLayer[] {
  return layerTree(model)
    .filter((n) => n.path !== '')
    .map((n) => ({ name: n.path, layer: n.layer }));
}

/**
 * Every leaf layer (one without children) of a model, depth first, through
 * nested Sequentials and composite layers (the model itself if it has no
 * children). Names are the stateDict prefixes: `bn1`, `block2/bn1`.
 *
 * @example
 * for (const { name, layer } of leafLayers(model)) console.log(name, layer.kind);
 */
export function leafLayers(model: Layer): NamedLayer[] {
  if (!(model instanceof Layer)) throw new Error(`leafLayers: model must be a Layer or Sequential, got ${model === null ? 'null' : typeof model}`);
  return layerTree(model)
    .filter((n) => n.layer.childLayers().length === 0)
    .map((n) => ({ name: n.path === '' ? n.layer.name : n.path, layer: n.layer }));
}

/**
 * The BatchNorm layers of a model with their paths, depth first in field
 * order (call order for a Sequential).
 *
 * @example
 * batchNormLayers(model).map((l) => l.name); // ['bn1', 'bn2']
 */
export function batchNormLayers(model: Layer): NamedLayer<BatchNorm>[] {
  return layerTree(model)
    .filter((n) => n.layer instanceof BatchNorm)
    .map((n) => ({ name: n.path === '' ? n.layer.name : n.path, layer: n.layer as BatchNorm }));
}
