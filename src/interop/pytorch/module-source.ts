/**
 * The Python source of a PyTorch nn.Module that computes what a normgrad
 * model computes, on the same NHWC input, and whose state dict is the one
 * `saveCheckpoint(model, path, { layout: 'pytorch' })` writes (names in
 * state-dict.ts). One constructor expression per layer kind; a composite
 * whose kind has none is traced into a class of its own (composite-source.ts),
 * which needs `inputShape`.
 *
 * Inside the module images run NCHW (PyTorch's layout): one permute after the
 * input, one back before Flatten (normgrad flattens NHWC) and at the output.
 * TensorFlow's SAME padding puts the odd pixel bottom/right, which PyTorch's
 * padding='same' (symmetric) cannot express, so the module pads with F.pad.
 * BatchNorm: PyTorch's momentum weights the new batch, Keras' the old value,
 * so momentum_pytorch = 1 - momentum_normgrad (normgrad 0.99 is PyTorch 0.01);
 * epsilon is carried; both track the unbiased variance (normgrad's default).
 */
import type { BatchNorm } from '../../layers/batch-norm.js';
import type { Conv2d } from '../../layers/conv2d.js';
import type { Dense } from '../../layers/dense.js';
import type { Layer } from '../../layers/layer.js';
import type { Sequential } from '../../layers/sequential.js';
import type { Dropout } from '../../layers/dropout.js';
import type { ELU, GELU, LeakyReLU } from '../../layers/activations.js';
import type { Softmax } from '../../layers/softmax.js';
import { noGrad } from '../../autograd/graph.js';
import { zeros } from '../../tensor/create.js';
import { checkInteger, checkOptions } from '../../tensor/options.js';
import type { Tensor } from '../../tensor/tensor.js';
import { convSettings } from '../conv-settings.js';
import { compositeClass, type CompositeWriter } from './composite-source.js';
import { NORM_POOL_MODULES } from './norm-pool-modules.js';
import { PYTHON_HELPERS, PYTHON_PRELUDE } from './python-prelude.js';
import { isTracedComposite } from './state-dict.js';

/** Python for one layer kind: the constructor expression of its module. */
export type PytorchModuleWriter = (layer: Layer) => string;

const ACTIVATION_NAMES = ['relu', 'sigmoid', 'tanh', 'linear'];

/** The layer's own `activation` option as a keyword argument ('' when there is none). */
function activationArg(layer: Layer): string {
  const a = (layer as { activation?: unknown }).activation;
  if (a === undefined || a === null || a === 'linear') return '';
  if (typeof a !== 'string' || !ACTIVATION_NAMES.includes(a)) {
    throw new Error(`pytorchModuleSource: layer '${layer.name}' has activation ${JSON.stringify(a)}, which has no PyTorch counterpart here (supported: ${ACTIVATION_NAMES.join(', ')})`);
  }
  return `, activation=${py(a)}`;
}

const py = (v: string | number | boolean): string => (typeof v === 'string' ? `'${v}'` : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
const tuple = (a: readonly number[]): string => `(${a.join(', ')})`;

/** The module writers, by `layer.kind`. */
export const PYTORCH_MODULES: Record<string, PytorchModuleWriter> = {
  dense(layer) {
    const d = layer as Dense;
    const [fanIn, units] = d.kernel!.shape as [number, number];
    return `Linear(${fanIn}, ${units}, bias=${py(d.bias !== null)}${activationArg(layer)})`;
  },
  conv(layer) {
    const c = layer as Conv2d;
    const [kh, kw, cin, cout] = c.kernel!.shape as [number, number, number, number];
    const { strides, padding, dilations, groups } = convSettings(c);
    const extra = (dilations[0] !== 1 || dilations[1] !== 1 ? `, dilation=${tuple(dilations)}` : '') + (groups !== 1 ? `, groups=${groups}` : '');
    return `Conv2d(${cin * groups}, ${cout}, ${tuple([kh, kw])}, stride=${tuple(strides)}${extra}, bias=${py(c.bias !== null)}, tf_padding=${py(padding)}${activationArg(layer)})`;
  },
  bn(layer) {
    const bn = layer as BatchNorm;
    const affine = bn.gamma !== null || bn.beta !== null;
    return `BatchNorm(${bn.channels}, eps=${bn.epsilon}, momentum=1 - ${bn.momentum}, affine=${py(affine)}${activationArg(layer)})`;
  },
  relu: () => 'nn.ReLU()',
  sigmoid: () => 'nn.Sigmoid()',
  tanh: () => 'nn.Tanh()',
  flatten: () => 'FlattenNHWC()',
  leakyRelu: (layer) => `nn.LeakyReLU(${(layer as LeakyReLU).alpha})`,
  elu: (layer) => `nn.ELU(${(layer as ELU).alpha})`,
  gelu: (layer) => `nn.GELU(approximate=${py((layer as GELU).approximate)})`,
  softmax: (layer) => `SoftmaxNHWC(${(layer as Softmax).axis})`,
  dropout: (layer) => `nn.Dropout(${(layer as Dropout).rate})`,
  ...NORM_POOL_MODULES, // pools, LayerNorm, GroupNorm
};

/** Notes a reader of the generated source should see next to a layer. */
function notes(layer: Layer): string {
  if (layer.kind !== 'bn') return '';
  const bn = layer as BatchNorm;
  const out: string[] = [`normgrad momentum ${bn.momentum}`];
  if (bn.movingVarianceMode === 'biased') out.push("normgrad tracked the biased variance; PyTorch's training updates track the unbiased one");
  if (bn.renorm) out.push('normgrad trains it with batch renormalization; PyTorch as plain batch norm');
  if (bn.virtualBatchSize !== null) out.push(`normgrad trains it on virtual batches of ${bn.virtualBatchSize}; PyTorch on the whole batch`);
  if ((bn.gamma === null) !== (bn.beta === null)) out.push(`normgrad has no ${bn.gamma === null ? 'gamma (weight is ones)' : 'beta (bias is zeros)'}; PyTorch will train it`);
  return `; ${out.join('; ')}`;
}

/** One step of the writing: the probe input of the current layer (null without `inputShape`) and the composites' classes. */
interface Writing extends CompositeWriter {
  probe: Tensor | null;
}

function moduleLines(layers: readonly Layer[], indent: string, path: string, w: Writing): string[] {
  return layers.map((layer, i) => {
    const layerPath = path === '' ? layer.name : `${path}/${layer.name}`;
    if (layer.kind === 'sequential') {
      const inner = moduleLines((layer as Sequential).layers, `${indent}    `, layerPath, w);
      return `${indent}nn.Sequential(  # ${i}: ${layerPath}\n${inner.join('\n')}\n${indent}),`;
    }
    const line = `${indent}${expression(layer, layerPath, w.probe, w)},  # ${i}: ${layerPath}${notes(layer)}`;
    if (w.probe !== null) w.probe = noGrad(() => layer.call(w.probe!, { isTraining: false }));
    return line;
  });
}

/** The constructor expression of one layer: its writer, an nn.Sequential, or a traced composite's class. */
function expression(layer: Layer, layerPath: string, probe: Tensor | null, w: Writing): string {
  if (layer.kind === 'sequential') {
    const inner: Writing = { ...w, probe };
    const lines = moduleLines((layer as Sequential).layers, '    ', layerPath, inner);
    return `nn.Sequential(\n${lines.join('\n')}\n)`;
  }
  const writer = Object.hasOwn(PYTORCH_MODULES, layer.kind) ? PYTORCH_MODULES[layer.kind] : undefined;
  if (writer !== undefined) return writer(layer);
  if (isTracedComposite(layer)) {
    if (probe === null) {
      throw new Error(`pytorchModuleSource: layer '${layerPath}' (${layer.constructor.name}, kind '${layer.kind}') is a composite with its own forward, which is traced on a sample input: pass { inputShape } (one example's shape, without the batch axis)`);
    }
    return compositeClass(layer, layerPath, probe, w);
  }
  throw new Error(`pytorchModuleSource: layer '${layerPath}' (${layer.constructor.name}, kind '${layer.kind}') has no PyTorch module; supported kinds: ${Object.keys(PYTORCH_MODULES).join(', ')}, sequential, and composites (layers holding child layers)`);
}

/** Options of `pytorchModuleSource`. */
export interface PytorchModuleSourceOptions {
  /** The Python class name (default 'NormgradModel'). */
  className?: string;
  /** One example's shape without the batch axis; needed when the model holds a composite with its own forward (traced on it). */
  inputShape?: readonly number[];
}

/**
 * Python source defining `class_name` (default 'NormgradModel'), an nn.Module
 * that loads `saveCheckpoint(model, path, { layout: 'pytorch' })` with
 * `strict=True` and returns `predict(model, x)`'s values for the same NHWC `x`.
 * The source also defines `load_safetensors` / `save_safetensors` (torch only,
 * for machines without the `safetensors` package). The model must be built.
 *
 * @example
 * writeFileSync('model.py', pytorchModuleSource(model));
 * saveCheckpoint(model, 'model.safetensors', { layout: 'pytorch' });
 * // python: from model import NormgradModel, load_safetensors
 * //         m = NormgradModel(); m.load_state_dict(load_safetensors('model.safetensors'), strict=True); m.eval()
 */
export function pytorchModuleSource(model: Layer, options: PytorchModuleSourceOptions = {}): string {
  checkOptions('pytorchModuleSource', options, ['className', 'inputShape']);
  const className = options.className ?? 'NormgradModel';
  const { inputShape } = options;
  if (inputShape !== undefined) {
    if (!Array.isArray(inputShape) || inputShape.length === 0) throw new Error(`pytorchModuleSource: inputShape must be one example's shape without the batch axis, e.g. [28, 28, 1], got ${JSON.stringify(inputShape)}`);
    inputShape.forEach((d, i) => checkInteger('pytorchModuleSource', `inputShape[${i}]`, d, 1));
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(className)) throw new Error(`pytorchModuleSource: className must be a Python identifier, got '${className}'`);
  if (!model.isBuilt) throw new Error(`pytorchModuleSource: model '${model.name}' has no weights yet: call it once on a sample input first`);
  const layers = model.kind === 'sequential' ? (model as Sequential).layers : [model];
  const w: Writing = {
    probe: inputShape === undefined ? null : zeros([1, ...inputShape]),
    classes: [],
    helpers: new Set(),
    names: new Map([...model.stateDict()].map(([name, t]) => [t, name])),
    expression: (layer, path, probe) => expression(layer, path, probe, w),
  };
  const lines = moduleLines(layers, '            ', '', w);
  const text = [...w.classes, lines.join('\n')].join('\n');
  const helpers = Object.entries(PYTHON_HELPERS).filter(([name]) => text.includes(`${name}(`)).map(([, source]) => `\n\n\n${source}`).join('');
  const classes = w.classes.map((c) => `\n\n\n${c}`).join('');
  return `${PYTHON_PRELUDE}${helpers}${classes}


class ${className}(nn.Module):
    """normgrad model '${model.name}' as a PyTorch module: NHWC in, the same values as normgrad's predict out."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
${lines.join('\n')}
        )

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 3, 1, 2)  # NHWC (normgrad) -> NCHW (PyTorch)
        y = self.features(x)
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y
`;
}
