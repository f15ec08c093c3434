/**
 * Building an ONNX graph: nodes, their attributes and the weights
 * (initializers), with unique names. The protobuf messages come from
 * `onnx-proto` (ONNX's own onnx.proto3 compiled with protobufjs), so nothing
 * here writes bytes by hand.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * The ONNX protobuf namespace (ModelProto, GraphProto, NodeProto, ...), from `onnx-proto`.
 * @internal onnx-proto's types need its `long` types: the public declarations do not mention them.
 */
export const onnxSchema = onnx;

/** An attribute value: typed explicitly, since ONNX tells 1 (INT) from 1.0 (FLOAT). */
export type OnnxAttribute = { int: number } | { ints: readonly number[] } | { float: number } | { string: string };

const AttributeType = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

/** A graph under construction: nodes in call order and the constant tensors they read. */
export class OnnxGraph {
  /** @internal The nodes, in the order they run (read by toOnnx). */
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  /** @internal The constant tensors (weights, shapes) the nodes read (read by toOnnx). */
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly used = new Set<string>();

  /** `base`, or `base_2`, `base_3`, ... if it is taken: every value name in a graph is unique. */
  unique(base: string): string {
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  /** A float32 constant (a weight) named after `base`; returns its name. `data` is row-major over `dims`. */
  floats(base: string, dims: readonly number[], data: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: FLOAT, floatData: Array.from(data) }));
    return name;
  }

  /** An int64 constant (shapes, pads) named after `base`; returns its name. */
  int64s(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: INT64, int64Data: [...values] }));
    return name;
  }

  /**
   * Appends a node `opType(inputs)` named after `base`, with one output; returns the output's name.
   * With `reserved`, the name is exactly `base`, which the caller took earlier with `unique`.
   */
  node(opType: string, inputs: readonly string[], base: string, attributes: Record<string, OnnxAttribute> = {}, reserved = false): string {
    const name = reserved ? base : this.unique(base);
    const attribute = Object.entries(attributes).map(([key, value]) => attributeProto(key, value));
    this.nodes.push(onnx.NodeProto.create({ opType, input: [...inputs], output: [name], name, attribute }));
    return name;
  }
}

function attributeProto(name: string, value: OnnxAttribute): InstanceType<typeof onnx.AttributeProto> {
  if ('int' in value) return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value.int });
  if ('ints' in value) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...value.ints] });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) });
}
