/**
 * Folding batch norm into the layer before it, for inference. In inference
 * mode BN is a fixed per-channel affine map, and Dense/Conv2d are linear per
 * output channel (the last kernel axis), so the two compose into one layer:
 *
 *   bn(z)_c = gamma_c * (z_c - mean_c) / sqrt(var_c + eps) + beta_c
 *           = s_c * z_c + (beta_c - s_c * mean_c),   s_c = gamma_c / sqrt(var_c + eps)
 *   z_c     = sum_k x_k w_kc + b_c
 *   =>  w'_kc = w_kc * s_c,   b'_c = (b_c - mean_c) * s_c + beta_c   (b = 0 without a bias)
 *
 * The result is a new, inference-only model: its layers are copies (the
 * original is never touched), it has no parameters, and a training call
 * throws, because a folded layer cannot compute batch statistics.
 */
import { checkCallOptions, type CallOptions, Layer } from './layer.js';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { Sequential } from './sequential.js';
import { leafLayers } from './walk.js';
import { joinPath } from './tree.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A Sequential that refuses training calls. */
class FoldedSequential extends Sequential {
  override call(x: Tensor, opts: CallOptions): Tensor {
    checkCallOptions(this.name, opts);
    if (opts.isTraining) {
      throw new Error(`${this.name}: folded model is inference-only (its batch norms were folded into the layers before them); call it with isTraining: false, and train the original model instead`);
    }
    return super.call(x, opts);
  }
}

/**
 * A copy of `layer`: same class and configuration (strides, padding and any
 * option added later), with every own Tensor field duplicated as a constant
 * (no gradient). Tensors kept inside other structures would be shared.
 */
function copyLayer<L extends Layer>(layer: L): L {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(layer) as object) as L, layer);
  // (the layer is a leaf here: composites are copied by foldComposite)
  const fields = copy as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Tensor) fields[key] = new Tensor(Float32Array.from(value.data), value.shape);
  }
  if (copy instanceof BatchNorm) copy.statisticsObserver = null;
  return copy;
}

/** A copy of `layer` with `bn` folded into its kernel and bias. */
function fold(layer: Dense | Conv2d, bn: BatchNorm, path: string): Dense | Conv2d {
  const w = layer.kernel!;
  const out = w.shape[w.rank - 1]!;
  if (bn.channels !== out) {
    throw new Error(`foldBatchNorm: '${path}' has ${bn.channels} channels but the layer before it outputs ${out} (kernel ${formatShape(w.shape)})`);
  }
  // s_c = gamma_c / sqrt(var_c + eps), in float64 and rounded once.
  const s = new Float64Array(out);
  for (let c = 0; c < out; c++) s[c] = (bn.gamma ? bn.gamma.data[c]! : 1) / Math.sqrt(bn.movingVariance!.data[c]! + bn.epsilon);
  // w'[..., c] = w[..., c] * s_c  (row-major: element i is in channel i % out)
  const kernel = new Float32Array(w.size);
  for (let i = 0; i < w.size; i++) kernel[i] = w.data[i]! * s[i % out]!;
  // b'_c = (b_c - mean_c) * s_c + beta_c
  const bias = new Float32Array(out);
  for (let c = 0; c < out; c++) {
    const b = layer.bias ? layer.bias.data[c]! : 0;
    bias[c] = (b - bn.movingMean!.data[c]!) * s[c]! + (bn.beta ? bn.beta.data[c]! : 0);
  }
  const copy = copyLayer(layer);
  copy.kernel = new Tensor(kernel, w.shape);
  copy.bias = new Tensor(bias, [out]); // the forward adds a bias whenever one is set
  return copy;
}

/** Stands where a folded BatchNorm was: passes its input through (the BN now lives in the layer before it). */
class FoldedAway extends Layer {
  readonly kind = 'folded';
  constructor(name: string) {
    super(name);
    this.built = true;
  }
  protected forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * A composite layer that tells foldBatchNorm which of its children run back
 * to back in its `forward`: for each pair [layer, bn] (child names as in
 * `childLayers()`, e.g. ['conv1', 'bn1']), the Dense or Conv2d `layer`'s
 * output is read by the BatchNorm `bn` and by nothing else.
 */
export interface DeclaresBatchNormPairs {
  /** The [layer, batchNorm] child paths whose BN folds into the layer before it. */
  batchNormPairs(): [string, string][];
}

function declaresPairs(layer: Layer): layer is Layer & DeclaresBatchNormPairs {
  return typeof (layer as Partial<DeclaresBatchNormPairs>).batchNormPairs === 'function';
}

type Memo = Map<Layer, Layer>;

/** A folded copy of any layer: a Sequential, a composite, or a leaf. A layer held twice is copied once. */
function copyTree(layer: Layer, path: string, memo: Memo): Layer {
  const done = memo.get(layer);
  if (done !== undefined) return done;
  let out: Layer;
  if (layer instanceof Sequential) out = foldSequential(layer, path, memo);
  else if (layer.childLayers().length === 0) out = copyLayer(layer);
  else out = foldComposite(layer, path, memo);
  memo.set(layer, out);
  return out;
}

function foldSequential(model: Sequential, prefix: string, memo: Memo): FoldedSequential {
  const layers: Layer[] = [];
  const src = model.layers;
  for (let i = 0; i < src.length; i++) {
    const layer = src[i]!;
    const next = src[i + 1];
    const path = (l: Layer): string => joinPath(prefix, l.name);
    if ((layer instanceof Dense || layer instanceof Conv2d) && next instanceof BatchNorm) {
      layers.push(fold(layer, next, path(next)));
      i++; // the BN is gone
    } else {
      layers.push(copyTree(layer, path(layer), memo));
    }
  }
  return new FoldedSequential(layers, { name: model.name });
}

/**
 * A composite with its own forward: its children are copied (and the pairs
 * it declares folded), then put in the same fields of a copy of it. A
 * BatchNorm held directly by it and not in a declared pair cannot be folded:
 * what feeds it is decided by code foldBatchNorm cannot see.
 */
function foldComposite(layer: Layer, prefix: string, memo: Memo): Layer {
  const children = layer.childLayers();
  const byName = new Map(children);
  const nameOf = new Map(children.map(([n, c]) => [c, n] as const));
  const replaced = new Map<Layer, Layer>();
  const where = prefix === '' ? `the model '${layer.name}'` : `'${prefix}'`;
  const pairs = declaresPairs(layer) ? layer.batchNormPairs() : [];
  for (const [a, b] of pairs) {
    const first = byName.get(a);
    const bn = byName.get(b);
    if (!(first instanceof Dense || first instanceof Conv2d) || !(bn instanceof BatchNorm)) {
      throw new Error(`foldBatchNorm: ${where} declares the pair ['${a}', '${b}'], but '${a}' must be a child Dense or Conv2d and '${b}' a child BatchNorm (children: ${children.map(([n]) => n).join(', ')})`);
    }
    replaced.set(first, fold(first, bn, joinPath(prefix, b)));
    replaced.set(bn, new FoldedAway(bn.name));
  }
  for (const [name, child] of children) {
    if (child instanceof BatchNorm && !replaced.has(child)) {
      throw new Error(
        `foldBatchNorm: cannot fold '${joinPath(prefix, name)}': it is called inside the forward of ${where} (a ${layer.kind}), ` +
          'where foldBatchNorm cannot see which layer feeds it. Declare the pairs with a method ' +
          `batchNormPairs() { return [['conv1', '${name}'], ...]; } on the class (each layer's output must be read by its BatchNorm only), ` +
          'or hold the layer and its BatchNorm in a Sequential',
      );
    }
  }
  const mapValue = (v: unknown, seen: Map<object, unknown>): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Layer) return replaced.get(v) ?? copyTree(v, joinPath(prefix, nameOf.get(v) ?? v.name), memo);
    if (v instanceof Tensor) return new Tensor(Float32Array.from(v.data), v.shape);
    if (seen.has(v)) return seen.get(v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(mapValue(x, seen));
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<unknown, unknown>();
      seen.set(v, out);
      for (const [k, x] of v) out.set(k, mapValue(x, seen));
      return out;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v; // other objects are shared
    const out = Object.create(proto as object | null) as Record<string, unknown>;
    seen.set(v, out);
    for (const [k, x] of Object.entries(v)) out[k] = mapValue(x, seen);
    return out;
  };
  const copy = Object.create(Object.getPrototypeOf(layer) as object) as Layer;
  const seen = new Map<object, unknown>();
  for (const [key, value] of Object.entries(layer)) (copy as unknown as Record<string, unknown>)[key] = mapValue(value, seen);
  return copy;
}

/**
 * Returns a new inference-only model in which every BatchNorm directly after
 * a Conv2d or Dense is folded into that layer's kernel and bias: in a
 * Sequential, when they are neighbours; in a composite layer with its own
 * forward, for the pairs it declares with `batchNormPairs()` (see
 * `DeclaresBatchNormPairs`; a BatchNorm there without a declared pair is an
 * error, since foldBatchNorm cannot see the data flow of a forward). Other
 * BatchNorm layers in a Sequential are kept (as copies). Names are kept, so
 * the state dict reads `conv1/kernel`, `conv1/bias` (a bias is added where
 * the layer had none) and loses `bn1/...`. The model must be built; the
 * original is not modified. Predictions match the original's inference-mode
 * predictions up to float32 rounding.
 *
 * @example
 * model.call(x, { isTraining: false });            // built (and trained)
 * const fast = foldBatchNorm(model);
 * fast.call(x, { isTraining: false });             // same outputs, fewer ops
 * fast.call(x, { isTraining: true });              // throws: inference-only
 */
export function foldBatchNorm<M extends Layer>(model: M): M {
  if (!(model instanceof Layer)) throw new Error('foldBatchNorm: expected a model (a Layer or Sequential)');
  const unbuilt = leafLayers(model).find((l) => !l.layer.isBuilt);
  if (unbuilt) {
    throw new Error(`foldBatchNorm: layer '${unbuilt.name}' is not built; call the model once (e.g. model.call(x, { isTraining: false })) before folding`);
  }
  const folded = copyTree(model, '', new Map());
  folded.trainable = false; // inference-only: parameters() is empty
  if (!(folded instanceof FoldedSequential)) {
    const run = folded.call.bind(folded);
    Object.defineProperty(folded, 'call', {
      enumerable: false,
      value: (x: Tensor, opts: CallOptions): Tensor => {
        checkCallOptions(folded.name, opts);
        if (opts.isTraining) throw new Error(`${folded.name}: folded model is inference-only (its batch norms were folded into the layers before them); call it with isTraining: false, and train the original model instead`);
        return run(x, opts);
      },
    });
  }
  return folded as M;
}
