/**
 * PyTorch modules of the pooling layers and of LayerNorm and GroupNorm for
 * `pytorchModuleSource`, merged into PYTORCH_MODULES (./module-source.ts),
 * with the Python classes they use (written only when used).
 *
 * Images are NCHW inside the generated module. TensorFlow's SAME puts the
 * odd padding pixel bottom/right, which PyTorch's symmetric `padding` cannot
 * express, so the pools pad with F.pad: -inf for max pooling (a pad never
 * wins); for average pooling zeros, and the window sums are divided by the
 * count of cells inside the image (the same pooling over a padded ones
 * image), which is normgrad's and TensorFlow's mean over valid cells.
 * LayerNorm normalizes trailing NHWC axes, so images go to NHWC for it.
 * GroupNorm's groups are consecutive channels in both, so F.group_norm runs
 * on NCHW as is (sequences [N, L, C] go channels first).
 * The state-dict names (weight, bias) are in ./state-dict.ts.
 */
import type { GroupNorm } from '../../layers/group-norm.js';
import type { LayerNorm } from '../../layers/layer-norm.js';
import type { Layer } from '../../layers/layer.js';
import type { AvgPool2d, MaxPool2d } from '../../layers/pooling.js';

const tuple = (a: readonly number[]): string => `(${a.join(', ')})`;
const pyBool = (b: boolean): string => (b ? 'True' : 'False');

const windowPool = (cls: 'MaxPool2dTF' | 'AvgPool2dTF') => (layer: Layer): string => {
  const { poolSize, strides, padding } = layer as MaxPool2d | AvgPool2d;
  return `${cls}(${tuple(poolSize)}, ${tuple(strides)}, tf_padding='${padding}')`;
};

/** The module writers, by `layer.kind`. */
export const NORM_POOL_MODULES: Record<string, (layer: Layer) => string> = {
  maxPool: windowPool('MaxPool2dTF'),
  avgPool: windowPool('AvgPool2dTF'),
  globalMaxPool: () => "GlobalPool('max')",
  globalAvgPool: () => "GlobalPool('mean')",
  ln(layer) {
    const ln = layer as LayerNorm;
    const axes = typeof ln.axis === 'number' ? 1 : ln.axis.length;
    const shape = (ln.gamma ?? ln.beta)?.shape;
    return `LayerNormNHWC(${axes}, eps=${ln.epsilon}, shape=${shape ? tuple(shape) : 'None'}, scale=${pyBool(ln.gamma !== null)}, center=${pyBool(ln.beta !== null)})`;
  },
  gn(layer) {
    const gn = layer as GroupNorm;
    const channels = (gn.gamma ?? gn.beta)?.shape[0] ?? 0;
    return `GroupNormNHWC(${gn.groups}, ${channels}, eps=${gn.epsilon}, scale=${pyBool(gn.gamma !== null)}, center=${pyBool(gn.beta !== null)})`;
  },
};

/** Python classes of the modules above, by name (written when the source uses them). */
export const NORM_POOL_HELPERS: Record<string, string> = {
  MaxPool2dTF: `class MaxPool2dTF(nn.Module):
    \"\"\"normgrad's MaxPool2d: TensorFlow's SAME pads (odd pixel bottom/right) are -inf, so they never win.\"\"\"

    def __init__(self, kernel_size, stride, tf_padding='valid'):
        super().__init__()
        self.kernel_size, self.stride, self.tf_padding = kernel_size, stride, tf_padding

    def forward(self, x):
        if self.tf_padding == 'same':
            top, bottom = tf_same_pads(x.shape[2], self.kernel_size[0], self.stride[0], 1)
            left, right = tf_same_pads(x.shape[3], self.kernel_size[1], self.stride[1], 1)
            x = F.pad(x, (left, right, top, bottom), value=float('-inf'))
        return F.max_pool2d(x, self.kernel_size, self.stride)`,
  AvgPool2dTF: `class AvgPool2dTF(nn.Module):
    \"\"\"normgrad's AvgPool2d: the mean over each window's cells inside the image (SAME pads are not counted).\"\"\"

    def __init__(self, kernel_size, stride, tf_padding='valid'):
        super().__init__()
        self.kernel_size, self.stride, self.tf_padding = kernel_size, stride, tf_padding

    def forward(self, x):
        if self.tf_padding != 'same':
            return F.avg_pool2d(x, self.kernel_size, self.stride)
        top, bottom = tf_same_pads(x.shape[2], self.kernel_size[0], self.stride[0], 1)
        left, right = tf_same_pads(x.shape[3], self.kernel_size[1], self.stride[1], 1)
        pads = (left, right, top, bottom)
        total = F.avg_pool2d(F.pad(x, pads), self.kernel_size, self.stride, divisor_override=1)
        count = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), pads), self.kernel_size, self.stride, divisor_override=1)
        return total / count`,
  GlobalPool: `class GlobalPool(nn.Module):
    \"\"\"normgrad's GlobalMaxPool2d / GlobalAvgPool2d: NCHW -> [N, C].\"\"\"

    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return x.amax(dim=(2, 3)) if self.mode == 'max' else x.mean(dim=(2, 3))`,
  LayerNormNHWC: `class LayerNormNHWC(nn.Module):
    \"\"\"normgrad's LayerNorm over the last \`axes\` NHWC axes (an NCHW image goes to NHWC for it); weight/bias shaped like them.\"\"\"

    def __init__(self, axes, eps, shape=None, scale=True, center=True):
        super().__init__()
        self.axes, self.eps = axes, eps
        self.register_parameter('weight', nn.Parameter(torch.ones(shape)) if scale else None)
        self.register_parameter('bias', nn.Parameter(torch.zeros(shape)) if center else None)

    def forward(self, x):
        image = x.dim() == 4
        if image:
            x = x.permute(0, 2, 3, 1)
        y = F.layer_norm(x, x.shape[x.dim() - self.axes:], self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2) if image else y`,
  GroupNormNHWC: `class GroupNormNHWC(nn.Module):
    \"\"\"normgrad's GroupNorm: groups of consecutive channels (-1: one per channel); NCHW and [N, C] as is, [N, L, C] channels first.\"\"\"

    def __init__(self, groups, channels, eps, scale=True, center=True):
        super().__init__()
        self.groups, self.eps = groups, eps
        self.register_parameter('weight', nn.Parameter(torch.ones(channels)) if scale else None)
        self.register_parameter('bias', nn.Parameter(torch.zeros(channels)) if center else None)

    def forward(self, x):
        sequence = x.dim() == 3
        if sequence:
            x = x.permute(0, 2, 1)
        weight = self.weight
        if weight is None and self.bias is not None:
            weight = torch.ones_like(self.bias)  # torch 1.13's group_norm backward fails with a bias and no weight
        y = F.group_norm(x, x.shape[1] if self.groups == -1 else self.groups, weight, self.bias, self.eps)
        return y.permute(0, 2, 1) if sequence else y`,
};
