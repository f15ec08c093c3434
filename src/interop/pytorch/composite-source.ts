/**
 * The Python class of a composite layer (children in fields, its own
 * `forward`) for `pytorchModuleSource`: its forward is traced on a sample
 * input (src/interop/trace.ts) and written out line by line:
 *
 *   v1 = self.conv1(x)          a child call: the child's module, at its field path
 *   v3 = torch.relu(v2)         an op between calls: the torch function of the same name
 *   v4 = self.scale             the composite's own tensor: a Parameter or buffer
 *
 * Children at paths with levels ('blocks/0') sit in nested nn.ModuleDicts,
 * so the state-dict names are the paths with '.' (`blocks.0.weight`).
 * Images are NCHW inside the module: an elementwise op on images of one shape
 * runs as is; one that broadcasts runs in NHWC (`nhwc_op`), as normgrad does.
 */
import { ownWeights, type Layer } from '../../layers/layer.js';
import { sameShape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { traceComposite } from '../trace.js';
import { ownTensors } from './state-dict.js';

/** What writing a composite needs from the module writer. */
export interface CompositeWriter {
  /** The constructor expression of `layer` (at `path`), whose input is `probe`. */
  expression(layer: Layer, path: string, probe: Tensor): string;
  /** Class definitions written so far; a new one is appended. */
  classes: string[];
  /** Python helpers the source needs ('nhwc_op'). */
  helpers: Set<string>;
  /** Every tensor of the model, by normgrad state-dict name. */
  names: Map<Tensor, string>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const float32Literal = (v: number): string => (Number.isFinite(v) ? String(v) : `float('${v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan'}')`);

/** Defines the class of composite `layer` at `path` (input `probe`) and returns its constructor expression. */
export function compositeClass(layer: Layer, path: string, probe: Tensor, w: CompositeWriter): string {
  const where = `pytorchModuleSource: layer '${path}' (${layer.constructor.name}, kind '${layer.kind}')`;
  const className = `${layer.kind.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[a-z]/, (c) => c.toUpperCase())}_${w.classes.length + 1}`;
  const trace = traceComposite(layer, probe, w.names, path, 'pytorchModuleSource');

  // The children as a tree of attribute names: 'conv1' -> self.conv1, 'blocks/0' -> self.blocks['0'].
  type Tree = Map<string, Tree | string>;
  const tree: Tree = new Map();
  const access = new Map<Layer, string>();
  const seen = new Set<Layer>();
  for (const step of trace.steps) {
    if (step.type !== 'child' || seen.has(step.layer)) continue;
    seen.add(step.layer);
    const parts = step.path.split('/');
    if (!IDENTIFIER.test(parts[0]!) || parts.some((p) => p.includes('.'))) throw new Error(`${where}: child path '${step.path}' cannot be a PyTorch attribute`);
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      if (!node.has(part)) node.set(part, new Map());
      node = node.get(part) as Tree;
    }
    node.set(parts[parts.length - 1]!, w.expression(step.layer, `${path}/${step.path}`, probeOf(trace, step.input, probe)!));
    access.set(step.layer, `self.${parts[0]}${parts.slice(1).map((p) => `['${p}']`).join('')}`);
  }
  const dict = (t: Tree, indent: string): string =>
    `nn.ModuleDict({\n${[...t].map(([k, v]) => `${indent}    '${k}': ${typeof v === 'string' ? v : dict(v, `${indent}    `)},`).join('\n')}\n${indent}})`;
  const init = [...tree].map(([k, v]) => `        self.${k} = ${typeof v === 'string' ? v : dict(v, '        ')}`);

  // The composite's own tensors: Parameters (weights) and buffers, by their keys.
  const own = new Map<Tensor, string>();
  for (const [key, t] of ownTensors(layer)) {
    if (!IDENTIFIER.test(key)) throw new Error(`${where}: its tensor '${key}' cannot be a PyTorch attribute name`);
    own.set(t, key);
    const zeros = `torch.zeros(${t.shape.length === 0 ? '()' : `(${t.shape.join(', ')},)`})`;
    init.push(ownWeights(layer).has(key) ? `        self.${key} = nn.Parameter(${zeros})` : `        self.register_buffer('${key}', ${zeros})`);
  }

  const v = (i: number): string => (i === 0 ? 'x' : `v${i}`);
  const body: string[] = [];
  for (const step of trace.steps) {
    if (step.type === 'child') {
      body.push(`        ${v(step.output)} = ${access.get(step.layer)!}(${v(step.input)})`);
    } else if (step.type === 'const') {
      const key = own.get(step.tensor);
      if (key !== undefined) body.push(`        ${v(step.output)} = self.${key}`);
      else if (step.stateName === null) body.push(`        ${v(step.output)} = ${float32Literal(step.tensor.data[0]!)}`);
      else throw new Error(`${where}: its forward reads '${step.stateName}', a tensor of another layer; only its own tensors and one-element constants can be written`);
    } else {
      const ins = step.inputs.map((i) => ({ name: v(i), probe: probeOf(trace, i, probe) }));
      const images = ins.filter((a) => a.probe !== null && a.probe.rank === 4);
      const direct = images.length === 0 || (images.length === ins.length && ins.every((a) => sameShape(a.probe!.shape, images[0]!.probe!.shape)));
      const fn = `torch.${step.op}`;
      if (direct) body.push(`        ${v(step.output)} = ${fn}(${ins.map((a) => a.name).join(', ')})`);
      else {
        w.helpers.add('nhwc_op');
        body.push(`        ${v(step.output)} = nhwc_op(${fn}, ${ins.map((a) => a.name).join(', ')})`);
      }
    }
  }
  w.classes.push(`class ${className}(nn.Module):
    """normgrad ${layer.constructor.name} '${path}' (kind '${layer.kind}'): its forward, as traced."""

    def __init__(self):
        super().__init__()
${init.join('\n')}

    def forward(self, x):
${body.join('\n')}
        return ${v(trace.output)}`);
  return `${className}()`;
}

/** The probe tensor of value `i` of a trace (the input for 0; a one-element constant is a scalar). */
function probeOf(trace: ReturnType<typeof traceComposite>, i: number, input: Tensor): Tensor | null {
  if (i === 0) return input;
  for (const step of trace.steps) {
    if (step.output !== i) continue;
    if (step.type === 'const') return step.tensor;
    return step.probe;
  }
  return null;
}
