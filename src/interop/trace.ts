/**
 * Tracing a composite layer's custom `forward` for the exporters.
 *
 * A composite (a Layer holding children in fields, with its own `forward`)
 * says how its parts connect only in code. The exporters see it by running it
 * once on a probe input, in inference mode, with recording on:
 *
 *   - each call of a direct child is intercepted and becomes a 'child' step
 *     (the child is then exported by its own converter: its weights keep their
 *     names, and a child may itself be a composite, traced in turn);
 *   - the ops between child calls (the residual `add`, a `relu`) are read from
 *     the autograd graph (`gradFn.op` and `gradFn.inputs`) and become 'op'
 *     steps, each of which must be in `TRACEABLE_OPS`;
 *   - a tensor that is neither derived from the input nor a child's output is
 *     a 'const' step: one of the model's own tensors (by state-dict name) or a
 *     one-element constant (`add(x, 1)`); anything else is an error, since a
 *     value computed by an unrecorded op would otherwise be frozen into the
 *     export silently.
 *
 * Steps come out in an order where every value is produced before it is read.
 * A layer kind with an entry in the exporter's table is converted by it
 * instead (the explicit protocol), so tracing is only the default.
 */
import { withGrad } from '../autograd/graph.js';
import type { Layer } from '../layers/layer.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The parameter-free ops a traced forward may use between child calls, with
 * their arity. Ops with hidden settings (leakyRelu's alpha, softmax's axis,
 * reshape's shape) are not readable from the graph: use their layers
 * (LeakyReLU, Softmax, Flatten) as children instead.
 */
export const TRACEABLE_OPS: Readonly<Record<string, 1 | 2>> = {
  add: 2, sub: 2, mul: 2, div: 2, pow: 2, maximum: 2, minimum: 2,
  neg: 1, exp: 1, log: 1, sqrt: 1, square: 1, abs: 1, relu: 1, sigmoid: 1, tanh: 1,
};

/** One step of a traced forward; values are numbered, 0 is the input. */
export type TraceStep =
  | { type: 'child'; path: string; layer: Layer; input: number; output: number; probe: Tensor }
  | { type: 'op'; op: string; inputs: number[]; output: number; probe: Tensor }
  | { type: 'const'; stateName: string | null; tensor: Tensor; output: number };

/** A traced forward: its steps and the number of the value it returns. */
export interface Trace {
  /** The recorded steps in execution order: child-layer calls, parameter-free ops and constants. */
  steps: TraceStep[];
  /** The number of the value the forward returns (0 is the input). */
  output: number;
}

/**
 * Traces `layer.forward` on `probe` (inference mode). `names` maps the
 * model's tensors to their state-dict names (for 'const' steps); `path` is
 * the layer's path, used in errors. The layer's children are only patched
 * for the duration of the call.
 */
export function traceComposite(layer: Layer, probe: Tensor, names: Map<Tensor, string>, path: string, op: string): Trace {
  const where = `${op}: layer '${path || layer.name}' (${layer.constructor.name}, kind '${layer.kind}')`;
  const ids = new Map<Tensor, number>();
  const steps: TraceStep[] = [];
  let next = 0;
  const input = probe.detach().requireGrad();
  ids.set(input, next++);

  const resolve = (t: Tensor): number => {
    const known = ids.get(t);
    if (known !== undefined) return known;
    let step: TraceStep;
    if (t.gradFn !== null && t.gradFn !== undefined && !names.has(t)) {
      const { op: name, inputs } = t.gradFn;
      if (!Object.hasOwn(TRACEABLE_OPS, name)) {
        throw new Error(
          `${where}: its forward uses the op '${name}' (output ${formatShape(t.shape)}), which the exporter cannot read from the graph; ` +
            `traceable ops: ${Object.keys(TRACEABLE_OPS).join(', ')}. Use a layer for it (LeakyReLU, ELU, GELU, Softmax, Flatten, Dense) held in a field, or register a converter for kind '${layer.kind}'`,
        );
      }
      const ins = inputs.map(resolve);
      step = { type: 'op', op: name, inputs: ins, output: next++, probe: t };
    } else if (names.has(t) || t.size === 1) {
      step = { type: 'const', stateName: names.get(t) ?? null, tensor: t, output: next++ };
    } else {
      throw new Error(
        `${where}: its forward reads a tensor ${formatShape(t.shape)} that is not derived from its input by recorded ops, ` +
          `not a child's output and not one of the model's tensors; the exporter cannot tell what computes it`,
      );
    }
    steps.push(step);
    ids.set(t, step.output);
    return step.output;
  };

  const children = layer.childLayers();
  const patched: [Layer, PropertyDescriptor | undefined][] = [];
  try {
    for (const [childPath, child] of children) {
      if (patched.some(([c]) => c === child)) continue;
      const original = child.call;
      patched.push([child, Object.getOwnPropertyDescriptor(child, 'call')]);
      child.call = (x, opts) => {
        const from = resolve(x);
        const y = original.call(child, x, opts);
        const output = next++;
        steps.push({ type: 'child', path: childPath, layer: child, input: from, output, probe: y });
        ids.set(y, output);
        return y;
      };
    }
    const y = withGrad(() => layer.call(input, { isTraining: false }));
    return { steps, output: resolve(y) };
  } finally {
    for (const [child, own] of patched) {
      delete (child as { call?: unknown }).call;
      if (own !== undefined) Object.defineProperty(child, 'call', own);
    }
  }
}
