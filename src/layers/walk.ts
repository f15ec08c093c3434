/**
 * Finding layers inside a model: the leaves of nested Sequentials, named by
 * their stateDict prefixes (`conv1`, `block2/bn1`).
 */
import { BatchNorm } from './batch-norm.js';
import type { Layer } from './layer.js';
import { Sequential } from './sequential.js';

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
 * Every leaf layer of a model, depth first, through nested Sequentials
 * (the model itself if it is not a Sequential). Names are the stateDict
 * prefixes: `bn1`, `block2/bn1`.
 *
 * @example
 * for (const { name, layer } of leafLayers(model)) console.log(name, layer.kind);
 */
export function leafLayers(model: Layer): NamedLayer[] {
  const out: NamedLayer[] = [];
  const walk = (layer: Layer, prefix: string): void => {
    if (layer instanceof Sequential) {
      for (const child of layer.layers) walk(child, prefix === '' ? child.name : `${prefix}/${child.name}`);
    } else {
      out.push({ name: prefix === '' ? layer.name : prefix, layer });
    }
  };
  walk(model, '');
  return out;
}

/**
 * The BatchNorm layers of a model, in call order, with their paths.
 *
 * @example
 * batchNormLayers(model).map((l) => l.name); // ['bn1', 'bn2']
 */
export function batchNormLayers(model: Layer): NamedLayer<BatchNorm>[] {
  return leafLayers(model).filter((l): l is NamedLayer<BatchNorm> => l.layer instanceof BatchNorm);
}
