/**
 * The layer tree: how a model's layers are found and named.
 *
 * A layer's children are the layers held in its own enumerable fields,
 * directly or inside arrays, plain objects and Maps (nested to any depth):
 *
 *   this.conv = new Conv2d(...)          ->  conv
 *   this.blocks = [blockA, blockB]       ->  blocks/0, blocks/1
 *   this.heads = { digit: d, parity: p } ->  heads/digit, heads/parity
 *   this.byName = new Map([['a', l]])    ->  byName/a
 *
 * A tensor's name is its layer's path and its own name joined by '/':
 * `block1/conv/kernel`. Path segments are non-empty and never contain '/',
 * so a name has exactly one reading; two tensors with the same name are an
 * error naming both layers. A layer held twice (shared weights) is visited
 * once, under the first path found; a layer that holds itself (a cycle) is
 * an error. `Sequential` names its children by their `name` instead of by
 * position (conv1, bn1, ...).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Layer } from './layer.js';

/** One layer of the tree, with its path ('' for the root) and whether it and every layer above it are trainable. */
export interface TreeNode {
  path: string;
  layer: Layer;
  depth: number;
  trainable: boolean;
}

/** Joins a path and a name ('' is the root). */
export function joinPath(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** Throws unless `segment` can be one level of a path: a non-empty string without '/'. */
export function checkPathSegment(owner: string, segment: string, what: string): void {
  if (segment === '' || segment.includes('/')) {
    throw new Error(`${owner}: ${what} '${segment}' cannot be used in a tensor name: names must be non-empty and must not contain '/' (it separates the levels, as in 'block1/conv/kernel')`);
  }
}

/**
 * The layers held in `owner`'s own enumerable fields, in field order, named
 * by field (arrays add the index, plain objects and Maps the key).
 */
export function fieldChildren(owner: object, isLayer: (v: unknown) => v is Layer, ownerName: string): [string, Layer][] {
  const out: [string, Layer][] = [];
  const seen = new Set<unknown>(); // containers already scanned (a container cycle is not a layer cycle)
  const scan = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (isLayer(value)) {
      out.push([path, value]);
      return;
    }
    if (seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((v, i) => scan(v, `${path}/${i}`));
    } else if (value instanceof Map) {
      for (const [k, v] of value) {
        if (v === null || typeof v !== 'object') continue;
        const key = String(k);
        checkPathSegment(ownerName, key, `Map key in field '${path}'`);
        scan(v, `${path}/${key}`);
      }
    } else if (isPlainObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (v !== null && typeof v === 'object') checkPathSegment(ownerName, k, `key in field '${path}'`);
        scan(v, `${path}/${k}`);
      }
    }
  };
  for (const [key, value] of Object.entries(owner)) {
    if (value === null || typeof value !== 'object') continue;
    if (isLayer(value) || Array.isArray(value) || value instanceof Map || isPlainObject(value)) {
      checkPathSegment(ownerName, key, 'field');
    }
    scan(value, key);
  }
  return out;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Every layer under `root` (itself first, path ''), depth first in field
 * order. Shared layers appear once; a cycle or two layers at one path throw.
 */
export function layerTree(root: Layer): TreeNode[] {
  const out: TreeNode[] = [];
  const visited = new Set<Layer>();
  const byPath = new Map<string, Layer>();
  const stack: Layer[] = [];
  const stackPaths: string[] = [];
  const visit = (layer: Layer, path: string, depth: number, parentTrainable: boolean): void => {
    const onStack = stack.indexOf(layer);
    if (onStack >= 0) {
      const at = stackPaths[onStack] === '' ? `the model '${root.name}'` : `'${stackPaths[onStack]}'`;
      throw new Error(`${root.name}: layer cycle: '${path}' is ${at} itself, which holds it (a layer cannot contain itself)`);
    }
    if (visited.has(layer)) return; // shared: counted once, under its first path
    const other = byPath.get(path);
    if (other !== undefined) {
      throw new Error(`${root.name}: two layers have the path '${path}': a ${other.kind} ('${other.name}') and a ${layer.kind} ('${layer.name}'); rename one`);
    }
    visited.add(layer);
    byPath.set(path, layer);
    const trainable = parentTrainable && layer.trainable;
    out.push({ path, layer, depth, trainable });
    stack.push(layer);
    stackPaths.push(path);
    for (const [name, child] of layer.childLayers()) visit(child, joinPath(path, name), depth + 1, trainable);
    stack.pop();
    stackPaths.pop();
  };
  visit(root, '', 0, true);
  return out;
}

/**
 * The tensors `pick` returns for each layer of the tree, under hierarchical
 * names. A tensor reached twice (a shared layer) appears once; two different
 * tensors with one name throw, naming both layers.
 */
export function namedTensors(root: Layer, op: string, pick: (layer: Layer) => Map<string, Tensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const owners = new Map<string, string>();
  const seen = new Set<Tensor>();
  for (const { path, layer } of layerTree(root)) {
    for (const [key, tensor] of pick(layer)) {
      if (seen.has(tensor)) continue;
      const name = joinPath(path, key);
      const owner = `${layer.kind} '${path === '' ? layer.name : path}' (its '${key}')`;
      const first = owners.get(name);
      if (first !== undefined) {
        throw new Error(`${root.name}.${op}: two tensors are named '${name}': one of ${first}, one of ${owner}; rename one of the layers`);
      }
      seen.add(tensor);
      owners.set(name, owner);
      out.set(name, tensor);
    }
  }
  return out;
}
