/**
 * Exporting a normgrad model to ONNX for inference in onnxruntime (CPU, GPU,
 * browser, mobile) or any other ONNX runtime.
 *
 * The exported graph takes the same NHWC arrays as `predict` (input 'input',
 * [batch, ...inputShape], batch left free) and gives the same outputs
 * ('output'). Inside, images run in NCHW (ONNX's Conv and BatchNormalization
 * layout) between one Transpose after the input and one before Flatten or the
 * output. Batch norm is exported in inference form (moving statistics).
 * Each layer kind has a converter in ONNX_CONVERTERS; a composite whose kind
 * has none (a layer holding children, with its own forward) is traced
 * (./composite.ts, ../trace.ts). See docs/exporting.md.
 */
import { noGrad } from '../../autograd/graph.js';
import type { Layer } from '../../layers/layer.js';
import { checkInteger, checkOptions } from '../../tensor/options.js';
import { zeros } from '../../tensor/create.js';
import { formatShape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { convertTraced } from './composite.js';
import { ONNX_CONVERTERS, type OnnxContext, type OnnxLayout, type OnnxValue } from './converters.js';
import { OnnxGraph, onnxSchema } from './graph.js';

/** Options of `toOnnx` and `saveOnnx`. */
export interface OnnxExportOptions {
  /** The shape of one example, without the batch axis, as the model takes it: [28, 28, 1] (NHWC images), [784]. */
  inputShape: readonly number[];
  /** The ONNX operator set to target (default 17; 13 to 21). */
  opset?: number;
}

const MIN_OPSET = 13;
const MAX_OPSET = 21;

// The IR version each opset needs (onnx/helper.py's VERSION_TABLE): opsets 15-18 came with IR 8, 19-20 with IR 9, 21 with IR 10.
const irVersionFor = (opset: number): number => (opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10);

/**
 * The model as an ONNX file (the bytes of a ModelProto). The model must be
 * built (called once). An unsupported layer is an error naming it.
 *
 * @example
 * const bytes = toOnnx(model, { inputShape: [28, 28, 1] });
 * const session = await ort.InferenceSession.create(bytes);          // onnxruntime-web or -node
 * const { output } = await session.run({ input: new ort.Tensor('float32', images.data, images.shape) });
 */
export function toOnnx(model: Layer, options: OnnxExportOptions): Uint8Array {
  checkOptions('toOnnx', options, ['inputShape', 'opset']);
  const { inputShape, opset = 17 } = options ?? ({} as OnnxExportOptions);
  if (!Array.isArray(inputShape) || inputShape.length === 0) {
    throw new Error(`toOnnx: inputShape must be the shape of one example without the batch axis, e.g. [28, 28, 1], got ${JSON.stringify(inputShape)}`);
  }
  inputShape.forEach((d, i) => checkInteger('toOnnx', `inputShape[${i}]`, d, 1));
  checkInteger('toOnnx', 'opset', opset, MIN_OPSET);
  if (opset > MAX_OPSET) throw new Error(`toOnnx: opset must be at most ${MAX_OPSET}, got ${opset}`);
  if (!model.isBuilt) {
    throw new Error(`toOnnx: model '${model.name}' has no weights yet: call it once on a sample input (model.call(x, { isTraining: false })) before exporting`);
  }

  const graph = new OnnxGraph();
  const input: OnnxValue = { name: graph.unique('input'), layout: 'nhwc', probe: zeros([1, ...inputShape]) };
  const output = graph.unique('output'); // taken now, so a layer named 'output' cannot have it
  const transposed = new Map<string, string>();
  const names = new Map([...model.stateDict()].map(([name, t]) => [t, name]));
  const shared: Shared = { graph, transposed, opset, names };
  const result = noGrad(() => convert(shared, model, input, ''));
  graph.node('Identity', [asLayout(graph, result, 'nhwc', transposed)], output, {}, true);

  const tensorType = (name: string, shape: readonly number[]) => ({
    name,
    type: { tensorType: { elemType: onnxSchema.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] } } },
  });
  const proto = onnxSchema.ModelProto.create({
    irVersion: irVersionFor(opset),
    producerName: 'normgrad',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [tensorType(input.name, inputShape)],
      output: [tensorType(output, result.probe.shape.slice(1))],
    },
  });
  // A plain Uint8Array of its own (in Node, protobufjs hands out a Buffer that may share a pooled slab).
  return new Uint8Array(onnxSchema.ModelProto.encode(proto).finish());
}

/** What every converter of one export shares: the graph, the transposes made, the opset, the tensors' names. */
interface Shared {
  graph: OnnxGraph;
  transposed: Map<string, string>;
  opset: number;
  names: Map<Tensor, string>;
}

/**
 * Runs the converter of `layer.kind`; a kind without one that holds child
 * layers (a composite with its own forward) is traced (./composite.ts).
 */
function convert(shared: Shared, layer: Layer, x: OnnxValue, path: string): OnnxValue {
  const { graph, transposed } = shared;
  const converter = Object.hasOwn(ONNX_CONVERTERS, layer.kind) ? ONNX_CONVERTERS[layer.kind] : layer.childLayers().length > 0 ? convertTraced : undefined;
  if (converter === undefined) {
    throw new Error(
      `toOnnx: layer '${path || layer.name}' (${layer.constructor.name}, kind '${layer.kind}') has no ONNX converter; ` +
        `supported kinds: ${Object.keys(ONNX_CONVERTERS).join(', ')}, and composites (layers holding child layers, traced)`,
    );
  }
  let output;
  try {
    output = layer.call(x.probe, { isTraining: false });
  } catch (e) {
    throw new Error(`toOnnx: layer '${path || layer.name}' does not accept input ${formatShape(x.probe.shape)} (is inputShape right?): ${(e as Error).message}`, { cause: e });
  }
  const ctx: OnnxContext = {
    graph,
    path: path || layer.name,
    output,
    as: (value, layout) => asLayout(graph, value, layout, transposed),
    convert: (child, input, name = child.name) => convert(shared, child, input, path === '' ? name : `${path}/${name}`),
    opset: shared.opset,
    names: shared.names,
  };
  return converter(layer, x, ctx);
}

/** `value`'s name in `layout`: NHWC -> NCHW is Transpose perm [0, 3, 1, 2], back is [0, 2, 3, 1]. */
function asLayout(graph: OnnxGraph, value: OnnxValue, layout: OnnxLayout, transposed: Map<string, string>): string {
  if (value.layout === layout) return value.name;
  if (value.probe.rank !== 4) throw new Error(`toOnnx: cannot lay out ${formatShape(value.probe.shape)} as ${layout} (only rank-4 images have NCHW)`);
  const key = `${value.name}->${layout}`;
  let name = transposed.get(key);
  if (name === undefined) {
    name = graph.node('Transpose', [value.name], `${value.name}/to_${layout}`, { perm: { ints: layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1] } });
    transposed.set(key, name);
  }
  return name;
}
