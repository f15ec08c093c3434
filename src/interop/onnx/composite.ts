/**
 * ONNX export of a composite layer (children in fields, its own `forward`)
 * whose kind has no entry in ONNX_CONVERTERS: the forward is traced
 * (src/interop/trace.ts) and each step becomes nodes: a child call is the
 * child's own converter, an op between calls one ONNX node
 * (`add` -> Add, `relu` -> Relu, ...), a constant an initializer.
 *
 * Layouts: an elementwise op on images of one shape runs in NCHW if any
 * operand is NCHW already (the residual Add of a conv output and the block's
 * input stays NCHW; the input's transpose is made once and shared);
 * otherwise its operands go to NHWC first, where ONNX's broadcasting matches
 * normgrad's.
 */
import type { Layer } from '../../layers/layer.js';
import { sameShape } from '../../tensor/shape.js';
import { traceComposite } from '../trace.js';
import type { OnnxContext, OnnxValue } from './converters.js';

/** The ONNX op of each traceable op ('square' is Mul(x, x)). */
const OP_TYPES: Record<string, string> = {
  add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', pow: 'Pow', maximum: 'Max', minimum: 'Min',
  neg: 'Neg', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', square: 'Mul', abs: 'Abs', relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh',
};

/** Converts `layer` by tracing its forward on `x.probe`. */
export function convertTraced(layer: Layer, x: OnnxValue, ctx: OnnxContext): OnnxValue {
  const trace = traceComposite(layer, x.probe, ctx.names, ctx.path, 'toOnnx');
  const values: OnnxValue[] = [x];
  for (const step of trace.steps) {
    if (step.type === 'child') {
      values[step.output] = ctx.convert(step.layer, values[step.input]!, step.path);
    } else if (step.type === 'const') {
      const t = step.tensor;
      const name = ctx.graph.floats(step.stateName ?? `${ctx.path}/constant`, t.shape, t.data);
      values[step.output] = { name, layout: 'nhwc', probe: t };
    } else {
      const ins = step.inputs.map((i) => values[i]!);
      const image = ins[0]!.probe.rank === 4 && ins.every((v) => v.probe.rank === 4 && sameShape(v.probe.shape, ins[0]!.probe.shape));
      const layout = image && ins.some((v) => v.layout === 'nchw') ? 'nchw' : 'nhwc';
      const names = ins.map((v) => ctx.as(v, layout));
      if (step.op === 'square') names.push(names[0]!);
      const name = ctx.graph.node(OP_TYPES[step.op]!, names, `${ctx.path}/${step.op}`);
      values[step.output] = { name, layout, probe: step.probe };
    }
  }
  return values[trace.output]!;
}
