/**
 * PyTorch interop for the layers added after the first exporter and for
 * composites traced through their own forward: the PyTorch-layout state dict
 * names (`features.3.conv1.weight` for `block1/conv1/kernel`), and, where
 * python3 with torch is installed, the generated nn.Module loading normgrad's
 * file with strict=True and giving predict()'s outputs, and PyTorch-trained
 * weights coming back. Tolerance: max |a - b| / max |b| <= 1e-5.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Conv2d, Dense, Dropout, ELU, Flatten, GELU, Layer, LeakyReLU, loadCheckpoint, predict, pytorchModuleSource, saveCheckpoint, Sequential, Softmax,
  Tensor, add, mul, sigmoid, softmax,
} from '../../src/node.js';
import { fromBytes, toBytes } from '../../src/train/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/train/safetensors.js';
import { uniform } from '../helpers.js';
import { maxRelativeDifference } from './ort.js';
import { RESIDUAL_INPUT_SHAPE, ResidualBlock, residualCnn, trainedResidualCnn } from './residual-model.js';

const TOLERANCE = 1e-5;
const measured: Record<string, number> = {};
afterAll(() => console.log(`PyTorch interop (new layers, composites) max |a - b| / max |b|: ${JSON.stringify(measured)}`));

/** conv, a list of two residual blocks, a learned per-channel scale, exp of a constant-shifted value. */
class Tower extends Layer {
  readonly kind = 'tower';
  stem = new Conv2d(3, 1);
  blocks = [new ResidualBlock(3, 'a'), new ResidualBlock(3, 'b')];
  scale = new Tensor(Float32Array.of(0.5, 1, 1.5), [3]).requireGrad();
  constructor() { super('tower'); }
  protected forward(x: Tensor, isTraining: boolean): Tensor {
    const o = { isTraining };
    let y = this.stem.call(x, o);
    for (const b of this.blocks) y = b.call(y, o);
    return sigmoid(mul(add(y, -0.25), this.scale)); // broadcasts [3] over NHWC channels
  }
  override weights(): Map<string, Tensor> { return new Map([['scale', this.scale]]); }
}

describe('PyTorch-layout state dicts of composites', () => {
  it('names a composite\'s children by field path under the Sequential index, and loads back bit for bit', () => {
    const { model } = trainedResidualCnn(2);
    const { tensors } = decodeSafetensors(toBytes(model, { layout: 'pytorch' }));
    const keys = [...tensors.keys()];
    expect(keys).toContain('features.3.conv1.weight');
    expect(keys).toContain('features.4.bn2.running_var');
    expect(keys).toContain('features.4.bn2.num_batches_tracked');
    expect(tensors.get('features.3.conv1.weight')!.shape).toEqual([4, 4, 3, 3]); // OIHW
    expect(keys.filter((k) => /features\.(5|6|8|10)\./.test(k))).toEqual([]); // Dropout, Flatten, GELU, Softmax: no tensors
    const target = residualCnn();
    fromBytes(target, toBytes(model, { layout: 'pytorch' }), { layout: 'pytorch' });
    for (const [name, t] of model.stateDict()) expect(Array.from(target.stateDict().get(name)!.data), name).toEqual(Array.from(t.data));
  });

  it('arrays of children nest (blocks.0.conv1.weight), own tensors keep their key', () => {
    const tower = new Tower();
    tower.call(uniform([1, 5, 4, 2], 0), { isTraining: false });
    const keys = [...decodeSafetensors(toBytes(tower, { layout: 'pytorch' })).tensors.keys()];
    expect(keys).toContain('features.0.blocks.1.conv2.weight');
    expect(keys).toContain('features.0.scale');
    expect(keys).toContain('features.0.stem.bias');
  });

  it('pytorchModuleSource needs inputShape to trace a composite, and names an op it cannot write', () => {
    const model = residualCnn();
    expect(() => pytorchModuleSource(model)).toThrow(/layer 'block1' \(ResidualBlock, kind 'residual'\) is a composite with its own forward, which is traced on a sample input: pass \{ inputShape \}/);
    expect(() => pytorchModuleSource(model, { inputShape: RESIDUAL_INPUT_SHAPE, inputshape: [1] } as never)).toThrow(/unknown option 'inputshape'/);
    class Soft extends Layer {
      readonly kind = 'soft';
      dense = new Dense(2);
      constructor() { super('soft'); }
      protected forward(x: Tensor, isTraining: boolean): Tensor { return softmax(this.dense.call(x, { isTraining })); }
    }
    const soft = new Soft();
    soft.call(uniform([1, 3], 0), { isTraining: false });
    expect(() => pytorchModuleSource(soft, { inputShape: [3] })).toThrow(/^pytorchModuleSource: layer 'soft' \(Soft, kind 'soft'\): its forward uses the op 'softmax'/);
  });
});

// python3 with torch: Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 may shadow it).
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
const withTorch = PYTHON ? `with PyTorch (${PYTHON})` : 'SKIPPED: no python3 with torch found (apt-get install python3-torch)';

/** In python: the generated module loads weights.safetensors strictly; y = eval output on x; two SGD steps; y_trained and trained.safetensors. */
function runInTorch(dir: string): void {
  const script = `
import sys; sys.path.insert(0, ${JSON.stringify(dir)})
import torch
from generated_model import NormgradModel as Model, load_safetensors, save_safetensors
d = ${JSON.stringify(dir)}
torch.manual_seed(0)
m = Model()
m.load_state_dict(load_safetensors(d + '/weights.safetensors'), strict=True)
x = load_safetensors(d + '/x.safetensors')['x']
m.eval()
with torch.no_grad():
    y = m(x)
m.train()
opt = torch.optim.SGD(m.parameters(), lr=0.5)
for _ in range(2):
    loss = (m(x) * torch.linspace(-1, 1, m(x).numel()).reshape(m(x).shape)).sum()
    opt.zero_grad(); loss.backward(); opt.step()
m.eval()
with torch.no_grad():
    y_trained = m(x)
save_safetensors({'y': y, 'y_trained': y_trained}, d + '/out.safetensors')
save_safetensors(m.state_dict(), d + '/trained.safetensors')
`;
  const run = spawnSync(PYTHON!, ['-c', script], { encoding: 'utf8', timeout: 240_000 });
  expect(run.status, run.stderr).toBe(0);
}

const tensorOf = (file: string, name: string): Tensor => {
  const t = decodeSafetensors(readFileSync(file)).tensors.get(name)!;
  return new Tensor(t.data, t.shape);
};

describe(`the generated nn.Module of new layers and composites, run ${withTorch}`, () => {
  const cases: [string, () => { model: Layer; x: Tensor }, number[]][] = [
    ['residual CNN (ResidualBlock composite, Dropout, GELU, Softmax) trained 5 Adam steps', () => trainedResidualCnn(), RESIDUAL_INPUT_SHAPE],
    ['LeakyReLU, ELU, GELU tanh, Softmax axis 1 on images', () => {
      const model = new Sequential([new Conv2d(3, 2, { padding: 'same' }), new LeakyReLU({ alpha: 0.1 }), new ELU({ alpha: 0.7 }), new GELU({ approximate: 'tanh' }), new Softmax({ axis: 1 }), new Dropout(0.3), new Flatten(), new Dense(4), new GELU()]);
      const x = uniform([6, 5, 4, 2], 3, -2, 2);
      model.call(x, { isTraining: false });
      return { model, x };
    }, [5, 4, 2]],
    ['Tower (composite as the model, array of blocks, own Parameter, broadcast op with a constant)', () => {
      const model = new Tower();
      const x = uniform([6, 5, 4, 2], 5, -2, 2);
      model.call(x, { isTraining: false });
      return { model, x };
    }, [5, 4, 2]],
  ];
  for (const [label, make, inputShape] of cases) {
    it.runIf(PYTHON !== undefined)(`${label}: loads with strict=True, gives predict()'s outputs; PyTorch-trained weights come back`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'normgrad-torch-'));
      try {
        const { model, x } = make();
        writeFileSync(join(dir, 'generated_model.py'), pytorchModuleSource(model, { inputShape }));
        saveCheckpoint(model, join(dir, 'weights.safetensors'), { layout: 'pytorch' });
        writeFileSync(join(dir, 'x.safetensors'), encodeSafetensors(new Map([['x', x]])));
        runInTorch(dir);
        const out = join(dir, 'out.safetensors');
        const rel = maxRelativeDifference(tensorOf(out, 'y'), predict(model, x));
        measured[`${label.split(' (')[0]}: normgrad -> PyTorch`] = rel;
        expect(rel).toBeLessThanOrEqual(TOLERANCE);

        const { model: back } = make(); // a fresh model of the same architecture (other weights for the trained one: fewer steps)
        loadCheckpoint(back, join(dir, 'trained.safetensors'), { layout: 'pytorch' });
        const relBack = maxRelativeDifference(predict(back, x), tensorOf(out, 'y_trained'));
        measured[`${label.split(' (')[0]}: PyTorch-trained -> normgrad`] = relBack;
        expect(relBack).toBeLessThanOrEqual(TOLERANCE);
        expect(maxRelativeDifference(tensorOf(out, 'y_trained'), tensorOf(out, 'y'))).toBeGreaterThan(1e-4); // training changed something
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
