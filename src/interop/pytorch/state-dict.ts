/**
 * normgrad's state dict in PyTorch's names and layouts, both ways, one entry
 * per layer kind:
 *
 *   normgrad                          PyTorch (module from pytorchModuleSource)
 *   model.layers[i]                   features.i          (nested Sequential: features.i.j)
 *   a composite's child block1/conv1  <prefix>.conv1     (field path, '/' -> '.': blocks/0 -> blocks.0)
 *   a composite's own tensor 'scale'  <prefix>.scale     (as is: a Parameter or buffer of its module)
 *   Dense kernel [in, out]            weight [out, in]    (nn.Linear)
 *   Conv2d kernel HWIO [kh,kw,in,out] weight OIHW [out, in, kh, kw]   (nn.Conv2d)
 *   bias                              bias
 *   BatchNorm gamma, beta             weight, bias
 *             movingMean              running_mean
 *             movingVariance          running_var        (both the unbiased estimate)
 *             (no step counter)       num_batches_tracked, int64 scalar, written 0
 *             renormMean, renormStddev, movingStddev (renorm): not in PyTorch's
 *                                       BN; on load movingStddev = sqrt(running_var + eps)
 *   LayerNorm, GroupNorm gamma, beta  weight, bias        (same shapes)
 *
 * Only layers and tensors are imported here, so train/checkpoint.ts can use
 * this for `{ layout: 'pytorch' }`.
 */
import type { BatchNorm } from '../../layers/batch-norm.js';
import { ownBuffers, ownWeights, type Layer } from '../../layers/layer.js';
import type { Sequential } from '../../layers/sequential.js';
import { formatShape, sameShape, type Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';

/** How one normgrad tensor maps to a PyTorch state-dict entry. */
export interface PytorchMapping {
  /** The entry's name within its module: 'weight', 'bias', 'running_mean', 'running_var'. */
  suffix: string;
  /** The normgrad tensor (normgrad layout), or a constant for an entry normgrad does not store. */
  tensor: Tensor;
  /** normgrad layout -> PyTorch layout (shape and values). */
  toTorch: (t: Tensor) => Tensor;
  /** PyTorch layout (values) -> normgrad layout, written into the normgrad tensor's shape. */
  fromTorch: (data: Float32Array) => Float32Array;
  /** The entry's shape in PyTorch. */
  torchShape: Shape;
  /** Other normgrad tensors derived from this entry's loaded values (renorm's movingStddev from running_var). */
  derived?: (values: Float32Array) => [Tensor, Float32Array][];
}

const same = (t: Tensor, suffix: string): PytorchMapping => ({ suffix, tensor: t, toTorch: () => t, fromTorch: (d) => d, torchShape: t.shape });

/** `[a, b]` -> `[b, a]` for the dense kernel. */
function transposed2d(t: Tensor, suffix: string): PytorchMapping {
  const [a, b] = t.shape as [number, number];
  const swap = (src: Float32Array, rows: number, cols: number): Float32Array => {
    const out = new Float32Array(src.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j]!;
    return out;
  };
  return { suffix, tensor: t, toTorch: () => new Tensor(swap(t.data, a, b), [b, a]), fromTorch: (d) => swap(d, b, a), torchShape: [b, a] };
}

/** HWIO [kh, kw, in, out] <-> OIHW [out, in, kh, kw] for conv kernels. */
function hwioToOihw(t: Tensor, suffix: string): PytorchMapping {
  const [kh, kw, cin, cout] = t.shape as [number, number, number, number];
  const hwio = (y: number, x: number, i: number, o: number): number => ((y * kw + x) * cin + i) * cout + o;
  const oihw = (y: number, x: number, i: number, o: number): number => ((o * cin + i) * kh + y) * kw + x;
  const move = (src: Float32Array, from: typeof hwio, to: typeof hwio): Float32Array => {
    const out = new Float32Array(src.length);
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[to(y, x, i, o)] = src[from(y, x, i, o)]!;
    return out;
  };
  return { suffix, tensor: t, toTorch: () => new Tensor(move(t.data, hwio, oihw), [cout, cin, kh, kw]), fromTorch: (d) => move(d, oihw, hwio), torchShape: [cout, cin, kh, kw] };
}

/** The PyTorch tensors of one layer kind (none for activations and Flatten). */
export type PytorchMapper = (layer: Layer) => PytorchMapping[];

const kernelLayer = (kernelMapping: (t: Tensor, suffix: string) => PytorchMapping): PytorchMapper => (layer) => {
  const { kernel, bias } = layer as Layer & { kernel: Tensor | null; bias: Tensor | null };
  return [kernelMapping(kernel!, 'weight'), ...(bias ? [same(bias, 'bias')] : [])];
};

/** LayerNorm / GroupNorm: gamma -> weight, beta -> bias, same shape (LayerNorm's NHWC-shaped: its module normalizes in NHWC). */
const normLayer: PytorchMapper = (layer) => {
  const { gamma, beta } = layer as Layer & { gamma: Tensor | null; beta: Tensor | null };
  return [...(gamma ? [same(gamma, 'weight')] : []), ...(beta ? [same(beta, 'bias')] : [])];
};

/** The state mappings, by `layer.kind`. Stateless kinds map to nothing. */
export const PYTORCH_MAPPERS: Record<string, PytorchMapper> = {
  dense: kernelLayer(transposed2d),
  conv: kernelLayer(hwioToOihw),
  bn(layer) {
    const bn = layer as BatchNorm;
    const c = bn.channels!;
    // PyTorch's BN is affine in both gamma and beta or in neither: a missing one is written as its identity.
    const affine = bn.gamma || bn.beta ? [
      bn.gamma ? same(bn.gamma, 'weight') : constant('weight', c, 1),
      bn.beta ? same(bn.beta, 'bias') : constant('bias', c, 0),
    ] : [];
    // Renorm keeps sqrt(var + eps) as movingStddev and derives movingVariance from it in training: loaded together.
    const stddev = bn.movingStddev;
    const runningVar: PytorchMapping = stddev
      ? { ...same(bn.movingVariance!, 'running_var'), derived: (v) => [[stddev, v.map((x) => Math.sqrt(x + bn.epsilon))]] }
      : same(bn.movingVariance!, 'running_var');
    return [...affine, same(bn.movingMean!, 'running_mean'), runningVar];
  },
  relu: () => [],
  sigmoid: () => [],
  tanh: () => [],
  flatten: () => [],
  leakyRelu: () => [],
  elu: () => [],
  gelu: () => [],
  softmax: () => [],
  dropout: () => [],
  maxPool: () => [],
  avgPool: () => [],
  globalMaxPool: () => [],
  globalAvgPool: () => [],
  ln: normLayer,
  gn: normLayer,
};

/**
 * A layer with no mapper of its own that holds children (a composite with
 * its own forward): its children are walked by field path, its own tensors
 * (`weights()`/`buffers()` it declares) keep their names and layout.
 */
export function isTracedComposite(layer: Layer): boolean {
  return layer.kind !== 'sequential' && !Object.hasOwn(PYTORCH_MAPPERS, layer.kind) && layer.childLayers().length > 0;
}

/** A composite's own tensors (weights, then buffers), by their key. */
export function ownTensors(layer: Layer): [string, Tensor][] {
  return [...ownWeights(layer), ...ownBuffers(layer)];
}

/** A tensor PyTorch has and normgrad does not (BN's beta when `center` is false): written as `value`, checked on load. */
function constant(suffix: string, c: number, value: number): PytorchMapping {
  return same(new Tensor(new Float32Array(c).fill(value), [c]), suffix);
}

/** One PyTorch state-dict entry of a normgrad model: the PyTorch name and the mapping. */
export interface PytorchEntry extends PytorchMapping {
  /** The full PyTorch name, e.g. 'features.3.1.running_var'. */
  name: string;
  /** The layer's path in normgrad ('conv3', 'block2/bn1'). */
  layerPath: string;
  /** true for an entry normgrad does not store (a BN gamma/beta it lacks); its loaded value must equal `tensor`. */
  synthetic: boolean;
}

/** The suffix of BN's int64 step counter, which normgrad does not keep. */
export const NUM_BATCHES_TRACKED = 'num_batches_tracked';

/**
 * Every PyTorch state-dict entry of `model` (built), in module order, and the
 * names of the BN step counters. Unknown layer kinds are an error naming the layer.
 */
export function pytorchEntries(model: Layer, op: string): { entries: PytorchEntry[]; counters: string[] } {
  if (!model.isBuilt) throw new Error(`${op}: model '${model.name}' has no weights yet: call it once on a sample input before converting to or from PyTorch`);
  const entries: PytorchEntry[] = [];
  const counters: string[] = [];
  const walk = (layers: readonly Layer[], prefix: string, pathPrefix: string): void => {
    layers.forEach((layer, i) => {
      const torchPrefix = `${prefix}.${i}`;
      const layerPath = pathPrefix === '' ? layer.name : `${pathPrefix}/${layer.name}`;
      if (layer.kind === 'sequential') return walk((layer as Sequential).layers, torchPrefix, layerPath);
      if (isTracedComposite(layer)) return composite(layer, torchPrefix, layerPath);
      leaf(layer, torchPrefix, layerPath);
    });
  };
  const leaf = (layer: Layer, torchPrefix: string, layerPath: string): void => {
    const mapper = Object.hasOwn(PYTORCH_MAPPERS, layer.kind) ? PYTORCH_MAPPERS[layer.kind] : undefined;
    if (mapper === undefined) {
      throw new Error(`${op}: layer '${layerPath}' (${layer.constructor.name}, kind '${layer.kind}') has no PyTorch mapping; supported kinds: ${Object.keys(PYTORCH_MAPPERS).join(', ')}, sequential, and composites (layers holding child layers)`);
    }
    const own = new Set(layer.stateDict().values());
    for (const m of mapper(layer)) entries.push({ ...m, name: `${torchPrefix}.${m.suffix}`, layerPath, synthetic: !own.has(m.tensor) });
    if (layer.kind === 'bn') counters.push(`${torchPrefix}.${NUM_BATCHES_TRACKED}`);
  };
  const composite = (layer: Layer, torchPrefix: string, layerPath: string): void => {
    for (const [key, t] of ownTensors(layer)) entries.push({ ...same(t, key), name: `${torchPrefix}.${key}`, layerPath, synthetic: false });
    const seen = new Set<Layer>();
    for (const [path, child] of layer.childLayers()) {
      if (seen.has(child)) continue; // held twice: one module, under its first path
      seen.add(child);
      const childPrefix = `${torchPrefix}.${path.replaceAll('/', '.')}`;
      const childPath = `${layerPath}/${path}`;
      if (child.kind === 'sequential') walk((child as Sequential).layers, childPrefix, childPath);
      else if (isTracedComposite(child)) composite(child, childPrefix, childPath);
      else leaf(child, childPrefix, childPath);
    }
  };
  walk(model.kind === 'sequential' ? (model as Sequential).layers : [model], 'features', '');
  return { entries, counters };
}

/** The tensors of a PyTorch state dict for `model`, by PyTorch name; the step counters are 0 (int64 when written). */
export function toPytorchStateDict(model: Layer, op = 'toPytorchStateDict'): { tensors: Map<string, Tensor>; int64: string[] } {
  const { entries, counters } = pytorchEntries(model, op);
  const tensors = new Map<string, Tensor>(entries.map((e) => [e.name, e.toTorch(e.tensor)]));
  for (const name of counters) tensors.set(name, new Tensor(new Float32Array(1), []));
  return { tensors, int64: counters };
}

/** A saved entry as the loader sees it: dtype, shape, and its values on demand (float32, exact or an error). */
export interface SavedEntry {
  /** The safetensors dtype ('F32', 'I64', ...). */
  dtype: string;
  /** The entry's shape in the file. */
  shape: number[];
  /** The values as float32 (exact, or an error naming the entry); only called for float entries. */
  values(): Float32Array;
}

/**
 * Checks a PyTorch state dict against `model` and returns the normgrad values
 * to write, keyed by the live tensors; changes nothing. Every problem
 * (missing, unexpected, wrong shape, a counter that is not an integer scalar)
 * is listed in one error.
 */
export function fromPytorchStateDict(model: Layer, saved: Map<string, SavedEntry>, op = 'fromPytorchStateDict'): Map<Tensor, Float32Array> {
  const { entries, counters } = pytorchEntries(model, op);
  const problems: string[] = [];
  const out = new Map<Tensor, Float32Array>();
  const known = new Set([...entries.map((e) => e.name), ...counters]);
  for (const e of entries) {
    const s = saved.get(e.name);
    if (s === undefined) problems.push(`missing tensor '${e.name}' (for ${e.layerPath})`);
    else if (!sameShape(s.shape, e.torchShape)) problems.push(`'${e.name}' has shape ${formatShape(s.shape)} in the file but ${formatShape(e.torchShape)} for ${e.layerPath}`);
  }
  for (const name of counters) {
    const s = saved.get(name);
    if (s !== undefined && (s.shape.length !== 0 || !/^(I64|I32|I16|I8|U8)$/.test(s.dtype))) {
      problems.push(`'${name}' must be an integer scalar (PyTorch writes int64), got ${s.dtype} ${formatShape(s.shape)}`);
    }
  }
  for (const name of saved.keys()) if (!known.has(name)) problems.push(`unexpected tensor '${name}'`);
  if (problems.length > 0) throw new Error(`${op}: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (and ${problems.length - 10} more)` : ''}`);
  for (const e of entries) {
    const values = e.fromTorch(saved.get(e.name)!.values());
    if (e.synthetic) {
      const expected = e.tensor.data[0]!;
      const i = values.findIndex((v) => v !== expected);
      if (i >= 0) throw new Error(`${op}: '${e.name}' holds ${values[i]} at index ${i}, but ${e.layerPath} has no ${e.suffix === 'weight' ? 'gamma (scale: false)' : 'beta (center: false)'}, so it must be ${expected}`);
      continue;
    }
    out.set(e.tensor, values);
    for (const [t, v] of e.derived?.(values) ?? []) out.set(t, v);
  }
  return out;
}
