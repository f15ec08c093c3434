/**
 * One ONNX converter per layer kind (`layer.kind`), in one table. A converter
 * appends the nodes that compute the layer to the graph and returns the
 * output value. To support a new layer, add one entry.
 *
 * Layouts: normgrad's images are NHWC, ONNX's Conv, BatchNormalization and
 * pooling take NCHW. A value remembers its layout and `ctx.as(value, layout)`
 * inserts a Transpose only where a layer needs the other one (Flatten needs
 * NHWC, because normgrad flattens in NHWC order; the model's output is NHWC).
 */
import type { BatchNorm } from '../../layers/batch-norm.js';
import type { Conv2d } from '../../layers/conv2d.js';
import type { Dense } from '../../layers/dense.js';
import type { ELU, GELU, LeakyReLU } from '../../layers/activations.js';
import type { Softmax } from '../../layers/softmax.js';
import type { Layer } from '../../layers/layer.js';
import type { Sequential } from '../../layers/sequential.js';
import type { Tensor } from '../../tensor/tensor.js';
import { convSettings, tfSamePads } from '../conv-settings.js';
import { NORM_POOL_CONVERTERS } from './norm-pool-converters.js';
import type { OnnxGraph } from './graph.js';

/** 'nhwc': laid out as normgrad's tensor (any rank); 'nchw': a rank-4 NHWC tensor transposed to NCHW. */
export type OnnxLayout = 'nhwc' | 'nchw';

/** A value in the graph: its name, its layout, and normgrad's value of it for the probe input (for shapes). */
export interface OnnxValue {
  /** The value's name in the ONNX graph. */
  name: string;
  /** Whether the value is laid out NHWC (normgrad's) or NCHW (ONNX's convolutions'). */
  layout: OnnxLayout;
  /** normgrad's tensor at this point for the probe input: its shape is the value's NHWC shape. */
  probe: Tensor;
}

/** What a converter works with. */
export interface OnnxContext {
  /** The graph being built: add nodes and initializers to it. */
  graph: OnnxGraph;
  /** The layer's path in the model ('conv3', 'block2/bn1'), the base of its node names. */
  path: string;
  /** normgrad's output of this layer for the probe input: the output value's `probe`. */
  output: Tensor;
  /** The name of `value` in `layout`, transposing (once per value) if it is in the other. */
  as(value: OnnxValue, layout: OnnxLayout): string;
  /** Converts a child layer, at path `path`/`name` (`name`: its field path in a composite, default its `name`): its output value. */
  convert(child: Layer, input: OnnxValue, name?: string): OnnxValue;
  /** The ONNX operator set being written. */
  opset: number;
  /** Every tensor of the model, by state-dict name ('block1/conv1/kernel'). */
  names: Map<Tensor, string>;
}

/** Appends the nodes of `layer` (input `x`) to `ctx.graph`; returns the output value. */
export type OnnxConverter = (layer: Layer, x: OnnxValue, ctx: OnnxContext) => OnnxValue;

// The elementwise activations, by layer kind and by the `activation` option's name.
const ACTIVATION_OPS: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' };

const activation = (op: string): OnnxConverter => (_layer, x, ctx) =>
  ({ name: ctx.graph.node(op, [x.name], ctx.path), layout: x.layout, probe: ctx.output });

/** The converters, by `layer.kind`. */
export const ONNX_CONVERTERS: Record<string, OnnxConverter> = {
  // y = x W + b: Gemm with W [in, out] as is (transB = 0); MatMul when there is no bias.
  dense(layer, x, ctx) {
    const { kernel, bias } = layer as Dense;
    const w = ctx.graph.floats(`${ctx.path}/kernel`, kernel!.shape, kernel!.data);
    const inputs = [ctx.as(x, 'nhwc'), w];
    const y = bias ? ctx.graph.node('Gemm', [...inputs, ctx.graph.floats(`${ctx.path}/bias`, bias.shape, bias.data)], ctx.path) : ctx.graph.node('MatMul', inputs, ctx.path);
    return withActivation(layer, { name: y, layout: 'nhwc', probe: ctx.output }, ctx);
  },

  // Conv over NCHW with the kernel HWIO -> OIHW, TensorFlow's SAME written as explicit pads
  // [top, left, bottom, right] (the odd pixel at the bottom/right, as TensorFlow).
  conv(layer, x, ctx) {
    const conv = layer as Conv2d;
    const kernel = conv.kernel!;
    const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
    const { strides, padding, dilations, groups } = convSettings(conv);
    const [, h, w] = x.probe.shape as [number, number, number, number];
    const [top, bottom] = tfSamePads(h, kh, strides[0], dilations[0], padding);
    const [left, right] = tfSamePads(w, kw, strides[1], dilations[1], padding);
    const oihw = new Float32Array(kernel.size);
    for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) {
      oihw[((o * cin + i) * kh + y) * kw + z] = kernel.data[((y * kw + z) * cin + i) * cout + o]!;
    }
    const inputs = [ctx.as(x, 'nchw'), ctx.graph.floats(`${ctx.path}/kernel`, [cout, cin, kh, kw], oihw)];
    if (conv.bias) inputs.push(ctx.graph.floats(`${ctx.path}/bias`, conv.bias.shape, conv.bias.data));
    const y = ctx.graph.node('Conv', inputs, ctx.path, {
      kernel_shape: { ints: [kh, kw] }, strides: { ints: strides }, pads: { ints: [top, left, bottom, right] },
      dilations: { ints: dilations }, group: { int: groups },
    });
    return withActivation(layer, { name: y, layout: 'nchw', probe: ctx.output }, ctx);
  },

  // Inference form: y = (x - movingMean) / sqrt(movingVariance + epsilon) * gamma + beta, per channel.
  bn(layer, x, ctx) {
    const bn = layer as BatchNorm;
    const c = bn.channels!;
    const param = (t: Tensor | null, fill: number, key: string): string =>
      ctx.graph.floats(`${ctx.path}/${key}`, [c], t ? t.data : new Float32Array(c).fill(fill));
    const input = ctx.as(x, x.probe.rank === 4 ? 'nchw' : 'nhwc');
    const y = ctx.graph.node('BatchNormalization', [
      input, param(bn.gamma, 1, 'gamma'), param(bn.beta, 0, 'beta'), param(bn.movingMean, 0, 'movingMean'), param(bn.movingVariance, 1, 'movingVariance'),
    ], ctx.path, { epsilon: { float: bn.epsilon } });
    return withActivation(layer, { name: y, layout: x.probe.rank === 4 ? 'nchw' : 'nhwc', probe: ctx.output }, ctx);
  },

  relu: activation('Relu'),
  sigmoid: activation('Sigmoid'),
  tanh: activation('Tanh'),

  leakyRelu(layer, x, ctx) {
    return { name: ctx.graph.node('LeakyRelu', [x.name], ctx.path, { alpha: { float: (layer as LeakyReLU).alpha } }), layout: x.layout, probe: ctx.output };
  },
  elu(layer, x, ctx) {
    return { name: ctx.graph.node('Elu', [x.name], ctx.path, { alpha: { float: (layer as ELU).alpha } }), layout: x.layout, probe: ctx.output };
  },
  gelu(layer, x, ctx) {
    return { name: geluNodes((layer as GELU).approximate, x.name, ctx), layout: x.layout, probe: ctx.output };
  },

  // softmax along normgrad's axis, in NHWC (opset 13+: Softmax normalizes along one axis).
  softmax(layer, x, ctx) {
    const rank = x.probe.rank;
    const axis = ((layer as Softmax).axis % rank + rank) % rank;
    return { name: ctx.graph.node('Softmax', [ctx.as(x, 'nhwc')], ctx.path, { axis: { int: axis } }), layout: 'nhwc', probe: ctx.output };
  },

  // Inference: the identity, so nothing is written (the rate is not needed by an inference graph).
  dropout: (_layer, x) => x,

  // normgrad flattens NHWC order: back to NHWC first, then Flatten(axis 1).
  flatten(_layer, x, ctx) {
    return { name: ctx.graph.node('Flatten', [ctx.as(x, 'nhwc')], ctx.path, { axis: { int: 1 } }), layout: 'nhwc', probe: ctx.output };
  },

  sequential(layer, x, ctx) {
    let y = x;
    for (const child of (layer as Sequential).layers) y = ctx.convert(child, y);
    return y;
  },

  // MaxPool2d, AvgPool2d, the global pools, LayerNorm, GroupNorm.
  ...NORM_POOL_CONVERTERS,
};

export { tfSamePads };

/**
 * GELU. Opset 20 has the op itself (approximate 'none' or 'tanh'); before,
 * the formulas: exact  y = 0.5 x (1 + erf(x / sqrt 2)),
 *               tanh   y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 */
function geluNodes(form: 'none' | 'tanh', x: string, ctx: OnnxContext): string {
  const g = ctx.graph;
  if (ctx.opset >= 20) return g.node('Gelu', [x], ctx.path, { approximate: { string: form } });
  const c = (name: string, v: number): string => g.floats(`${ctx.path}/${name}`, [], Float32Array.of(v));
  let inner: string;
  if (form === 'none') {
    inner = g.node('Erf', [g.node('Div', [x, c('sqrt2', Math.SQRT2)], `${ctx.path}/scaled`)], `${ctx.path}/erf`);
  } else {
    const cube = g.node('Mul', [g.node('Mul', [x, x], `${ctx.path}/square`), x], `${ctx.path}/cube`);
    const poly = g.node('Add', [x, g.node('Mul', [cube, c('k', 0.044715)], `${ctx.path}/cubeScaled`)], `${ctx.path}/poly`);
    inner = g.node('Tanh', [g.node('Mul', [poly, c('sqrt2OverPi', Math.sqrt(2 / Math.PI))], `${ctx.path}/scaled`)], `${ctx.path}/tanh`);
  }
  const onePlus = g.node('Add', [inner, c('one', 1)], `${ctx.path}/onePlus`);
  return g.node('Mul', [g.node('Mul', [x, c('half', 0.5)], `${ctx.path}/half`), onePlus], ctx.path);
}

/** Appends the layer's own `activation` option ('relu', 'sigmoid', 'tanh'; 'linear' or none: nothing). */
function withActivation(layer: Layer, y: OnnxValue, ctx: OnnxContext): OnnxValue {
  const name = (layer as { activation?: unknown }).activation;
  if (name === undefined || name === null || name === 'linear') return y;
  const op = typeof name === 'string' ? ACTIVATION_OPS[name] : undefined;
  if (op === undefined) throw new Error(`toOnnx: layer '${ctx.path}' has activation ${JSON.stringify(name)}, which has no ONNX export (supported: ${Object.keys(ACTIVATION_OPS).join(', ')}, linear)`);
  return { ...y, name: ctx.graph.node(op, [y.name], `${ctx.path}/${name}`) };
}
