/**
 * ONNX converters of the pooling layers and of LayerNorm and GroupNorm,
 * merged into ONNX_CONVERTERS (./converters.ts).
 *
 * Pools run in NCHW with TensorFlow's SAME written as explicit, possibly
 * asymmetric pads. MaxPool ignores pad cells; AveragePool with
 * count_include_pad = 0 divides by the cells inside the image, as normgrad.
 * LayerNorm's axes are NHWC axes, so it runs in NHWC: LayerNormalization
 * (opset 17+, normalizing axes [axis, rank)) or, before 17, ReduceMean nodes.
 * GroupNorm runs channels first (the groups are consecutive channels):
 * Reshape to [N, groups, rest], InstanceNormalization (unit scale, zero bias)
 * normalizes each (example, group), Reshape back, then the per-channel gamma
 * and beta. This works at every opset and avoids GroupNormalization, whose
 * scale and bias changed meaning from per-group (18) to per-channel (21).
 */
import type { GroupNorm } from '../../layers/group-norm.js';
import type { LayerNorm } from '../../layers/layer-norm.js';
import type { AvgPool2d, MaxPool2d } from '../../layers/pooling.js';
import type { Tensor } from '../../tensor/tensor.js';
import { trailingAxes } from '../../autograd/ops/group-norm.js';
import { tfSamePads } from '../conv-settings.js';
import type { OnnxContext, OnnxConverter, OnnxValue } from './converters.js';

/** MaxPool / AveragePool over NCHW with [top, left, bottom, right] pads from TensorFlow's SAME. */
const windowPool = (op: 'MaxPool' | 'AveragePool'): OnnxConverter => (layer, x, ctx) => {
  const { poolSize, strides, padding } = layer as MaxPool2d | AvgPool2d;
  const [, h, w] = x.probe.shape as [number, number, number, number];
  const [top, bottom] = tfSamePads(h, poolSize[0], strides[0], 1, padding);
  const [left, right] = tfSamePads(w, poolSize[1], strides[1], 1, padding);
  const attributes = { kernel_shape: { ints: poolSize }, strides: { ints: strides }, pads: { ints: [top, left, bottom, right] } };
  const y = ctx.graph.node(op, [ctx.as(x, 'nchw')], ctx.path, op === 'AveragePool' ? { ...attributes, count_include_pad: { int: 0 } } : attributes);
  return { name: y, layout: 'nchw', probe: ctx.output };
};

/** GlobalMaxPool / GlobalAveragePool: NCHW -> [N, C, 1, 1], flattened to normgrad's [N, C]. */
const globalPool = (op: 'GlobalMaxPool' | 'GlobalAveragePool'): OnnxConverter => (_layer, x, ctx) => {
  const pooled = ctx.graph.node(op, [ctx.as(x, 'nchw')], `${ctx.path}/pool`);
  return { name: ctx.graph.node('Flatten', [pooled], ctx.path, { axis: { int: 1 } }), layout: 'nhwc', probe: ctx.output };
};

/** A learned tensor, or `fill` in its place (shape `shape`), as a constant. */
function paramOrFill(ctx: OnnxContext, t: Tensor | null, key: string, shape: readonly number[], fill: number): string {
  const size = shape.reduce((a, b) => a * b, 1);
  return ctx.graph.floats(`${ctx.path}/${key}`, shape, t ? t.data : new Float32Array(size).fill(fill));
}

/** The converters, by `layer.kind`. */
export const NORM_POOL_CONVERTERS: Record<string, OnnxConverter> = {
  maxPool: windowPool('MaxPool'),
  avgPool: windowPool('AveragePool'),
  globalMaxPool: globalPool('GlobalMaxPool'),
  globalAvgPool: globalPool('GlobalAveragePool'),

  // y = (x - mean) / sqrt(var + epsilon) * gamma + beta over the trailing axes [a, rank), var biased.
  ln(layer, x, ctx) {
    const ln = layer as LayerNorm;
    const shape = x.probe.shape;
    const axes = trailingAxes(ctx.path, shape.length, ln.axis, shape);
    const normalized = shape.slice(axes[0]);
    const input = ctx.as(x, 'nhwc');
    const gamma = paramOrFill(ctx, ln.gamma, 'gamma', normalized, 1);
    const beta = paramOrFill(ctx, ln.beta, 'beta', normalized, 0);
    if (ctx.opset >= 17) {
      const y = ctx.graph.node('LayerNormalization', [input, gamma, beta], ctx.path, { axis: { int: axes[0]! }, epsilon: { float: ln.epsilon } });
      return { name: y, layout: 'nhwc', probe: ctx.output };
    }
    // Opsets 13-16 have no LayerNormalization: the formula, ReduceMean's axes an attribute (an input from 18).
    const g = ctx.graph;
    const p = ctx.path;
    const mean = g.node('ReduceMean', [input], `${p}/mean`, { axes: { ints: axes }, keepdims: { int: 1 } });
    const centered = g.node('Sub', [input, mean], `${p}/centered`);
    const variance = g.node('ReduceMean', [g.node('Mul', [centered, centered], `${p}/square`)], `${p}/variance`, { axes: { ints: axes }, keepdims: { int: 1 } });
    const std = g.node('Sqrt', [g.node('Add', [variance, g.floats(`${p}/epsilon`, [], Float32Array.of(ln.epsilon))], `${p}/varianceEps`)], `${p}/std`);
    const scaled = g.node('Mul', [g.node('Div', [centered, std], `${p}/normalized`), gamma], `${p}/scaled`);
    return { name: g.node('Add', [scaled, beta], p), layout: 'nhwc', probe: ctx.output };
  },

  // Channels first: [N, C, ...] -> [N, groups, C / groups * rest] -> InstanceNormalization -> [N, C, ...] * gamma_c + beta_c.
  gn(layer, x, ctx) {
    const gn = layer as GroupNorm;
    const g = ctx.graph;
    const p = ctx.path;
    const rank = x.probe.rank;
    const c = x.probe.shape[rank - 1]!;
    const groups = gn.groups === -1 ? c : gn.groups;
    // Channels first: NCHW for images, [N, C, L] (a Transpose) for sequences, [N, C] as is.
    let input: string;
    if (rank === 4) input = ctx.as(x, 'nchw');
    else if (rank === 3) input = g.node('Transpose', [ctx.as(x, 'nhwc')], `${p}/to_ncl`, { perm: { ints: [0, 2, 1] } });
    else input = ctx.as(x, 'nhwc');
    const grouped = g.node('Reshape', [input, g.int64s(`${p}/groupedShape`, [0, groups, -1])], `${p}/grouped`);
    const normalized = g.node('InstanceNormalization', [
      grouped, g.floats(`${p}/unitScale`, [groups], new Float32Array(groups).fill(1)), g.floats(`${p}/zeroBias`, [groups], new Float32Array(groups)),
    ], `${p}/normalized`, { epsilon: { float: gn.epsilon } });
    let y = g.node('Reshape', [normalized, g.node('Shape', [input], `${p}/shape`)], `${p}/ungrouped`);
    const perChannel = [c, ...new Array<number>(rank - 2).fill(1)];
    if (gn.gamma) y = g.node('Mul', [y, g.floats(`${p}/gamma`, perChannel, gn.gamma.data)], `${p}/scaled`);
    if (gn.beta) y = g.node('Add', [y, g.floats(`${p}/beta`, perChannel, gn.beta.data)], `${p}/shifted`);
    if (rank === 3) return { name: g.node('Transpose', [y], p, { perm: { ints: [0, 2, 1] } }), layout: 'nhwc', probe: ctx.output };
    return { name: y, layout: rank === 4 ? 'nchw' : 'nhwc', probe: ctx.output } satisfies OnnxValue;
  },
};
