/**
 * PyTorch interop of the pools, LayerNorm, GroupNorm, BatchNorm with renorm /
 * virtualBatchSize and Conv2d with dilation and groups, each alone and in two
 * mixed models with a residual composite. Where python3 with torch is
 * installed: the generated nn.Module loads saveCheckpoint(..., { layout:
 * 'pytorch' }) with strict=True and gives predict()'s outputs; after two SGD
 * steps in PyTorch (train mode: BN statistics move too) the state dict comes
 * back into a fresh normgrad model and predicts what PyTorch predicts.
 * All cases run in one Python process (torch's import is slow on a shared machine).
 * Tolerance: max |a - b| / max |b| <= 1e-5 (figures logged).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm, Dense, loadCheckpoint, predict, pytorchModuleSource, saveCheckpoint, Sequential, Tensor } from '../../src/node.js';
import { fromBytes, toBytes } from '../../src/train/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/train/safetensors.js';
import { expectClose } from '../helpers.js';
import { makeCase, mixedModel, mixedModelFlatten, SINGLE_CASES, type NormPoolCase } from './norm-pool-models.js';
import { maxRelativeDifference } from './ort.js';

const TOLERANCE = 1e-5;
const measured: Record<string, number> = {};
afterAll(() => console.log(`PyTorch interop (pools, norms, conv groups/dilation) max |a - b| / max |b|: ${JSON.stringify(measured)}`));

const CASES: [string, () => NormPoolCase][] = [
  ...SINGLE_CASES,
  ['mixed (global average head)', () => mixedModel()],
  ['mixed (flatten head)', () => mixedModelFlatten()],
];

describe('PyTorch-layout state dicts of pools and norms', () => {
  it('LayerNorm / GroupNorm gamma and beta are weight and bias (NHWC shapes), pools have no entries; every case loads back bit for bit', () => {
    const { model } = mixedModel();
    const tensors = decodeSafetensors(toBytes(model, { layout: 'pytorch' })).tensors;
    expect(tensors.get('features.2.weight')!.shape).toEqual([6]); // GroupNorm gamma, per channel
    expect(tensors.get('features.6.bias')!.shape).toEqual([6]); // LayerNorm beta over the channel axis
    expect([...tensors.keys()].filter((k) => /^features\.(3|4|7|10)\./.test(k))).toEqual([]); // ReLU, MaxPool, AvgPool, GlobalAvgPool
    for (const [label, make] of CASES) {
      const a = make();
      const b = make();
      for (const t of b.model.stateDict().values()) t.data.fill(0.25);
      fromBytes(b.model, toBytes(a.model, { layout: 'pytorch' }), { layout: 'pytorch' });
      for (const [name, t] of a.model.stateDict()) {
        if (/renormMean|renormStddev/.test(name)) continue; // not in PyTorch's batch norm
        expectClose(b.model.stateDict().get(name)!.data, t.data, { atol: 0, rtol: name.endsWith('movingStddev') ? 1e-6 : 0 });
      }
      expect(predict(b.model, a.x).data, label).toEqual(predict(a.model, a.x).data);
    }
  });

  it('loading running_var into a renorm BatchNorm sets movingStddev = sqrt(running_var + epsilon) (renorm training derives the variance from it)', () => {
    const make = () => makeCase([new Dense(3), new BatchNorm({ renorm: true, momentum: 0.2 })], [4], 60, 3);
    const a = make();
    const fresh = new Sequential([new Dense(3), new BatchNorm({ renorm: true })]);
    fresh.call(a.x, { isTraining: false }); // movingStddev all ones
    fromBytes(fresh, toBytes(a.model, { layout: 'pytorch' }), { layout: 'pytorch' });
    const bn = fresh.layers[1] as BatchNorm;
    const src = a.model as Sequential;
    const variance = (src.layers[1] as BatchNorm).movingVariance!.data;
    expect(Array.from(variance).some((v) => Math.abs(Math.sqrt(v + bn.epsilon) - 1) > 0.1)).toBe(true); // far from the fresh ones
    expectClose(bn.movingStddev!.data, Array.from(variance, (v) => Math.sqrt(v + bn.epsilon)), { atol: 0, rtol: 1e-6 });
  });
});

// python3 with torch: Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 may shadow it).
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
const withTorch = PYTHON ? `with PyTorch (${PYTHON})` : 'SKIPPED: no python3 with torch found (apt-get install python3-torch)';

/** In one python process, for each case directory: strict load, eval output y, two SGD steps in train mode, y_trained and trained.safetensors. */
function runInTorch(dirs: string[]): void {
  const script = `
import importlib.util, sys
import torch
dirs = ${JSON.stringify(dirs)}
for i, d in enumerate(dirs):
    print('case', d, file=sys.stderr, flush=True)
    spec = importlib.util.spec_from_file_location(f'generated_{i}', d + '/generated_model.py')
    g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)
    torch.manual_seed(0)
    m = g.NormgradModel()
    m.load_state_dict(g.load_safetensors(d + '/weights.safetensors'), strict=True)
    x = g.load_safetensors(d + '/x.safetensors')['x']
    m.eval()
    with torch.no_grad():
        y = m(x)
    m.train()
    params = list(m.parameters())
    opt = torch.optim.SGD(params, lr=0.5) if params else None
    for _ in range(2):
        out = m(x)
        if opt:
            loss = (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum()
            opt.zero_grad(); loss.backward(); opt.step()
    m.eval()
    with torch.no_grad():
        y_trained = m(x)
    g.save_safetensors({'y': y, 'y_trained': y_trained}, d + '/out.safetensors')
    g.save_safetensors(m.state_dict(), d + '/trained.safetensors')
`;
  const run = spawnSync(PYTHON!, ['-c', script], { encoding: 'utf8', timeout: 600_000 });
  expect(run.status, run.stderr).toBe(0);
}

const tensorOf = (file: string, name: string): Tensor => {
  const t = decodeSafetensors(readFileSync(file)).tensors.get(name)!;
  return new Tensor(t.data, t.shape);
};

describe(`the generated nn.Module of pools, norms and conv groups/dilation, run ${withTorch}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'normgrad-torch-np-'));
  const dirOf = (i: number): string => join(root, `case${i}`);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeAll(() => {
    if (PYTHON === undefined) return;
    CASES.forEach(([, make], i) => {
      const { model, x, inputShape } = make();
      mkdirSync(dirOf(i));
      writeFileSync(join(dirOf(i), 'generated_model.py'), pytorchModuleSource(model, { inputShape }));
      saveCheckpoint(model, join(dirOf(i), 'weights.safetensors'), { layout: 'pytorch' });
      writeFileSync(join(dirOf(i), 'x.safetensors'), encodeSafetensors(new Map([['x', x]])));
    });
    runInTorch(CASES.map((_, i) => dirOf(i)));
  }, 600_000);

  CASES.forEach(([label, make], i) => {
    it.runIf(PYTHON !== undefined)(`${label}: strict load, predict()'s outputs; PyTorch-trained state dict comes back`, () => {
      const { model, x } = make();
      const out = join(dirOf(i), 'out.safetensors');
      const rel = maxRelativeDifference(tensorOf(out, 'y'), predict(model, x));
      measured[`${label}: normgrad -> PyTorch`] = rel;
      expect(rel).toBeLessThanOrEqual(TOLERANCE);

      const { model: back } = make();
      loadCheckpoint(back, join(dirOf(i), 'trained.safetensors'), { layout: 'pytorch' });
      const relBack = maxRelativeDifference(predict(back, x), tensorOf(out, 'y_trained'));
      measured[`${label}: PyTorch-trained -> normgrad`] = relBack;
      expect(relBack).toBeLessThanOrEqual(TOLERANCE);
      const learns = back.weights().size > 0 || back.buffers().size > 0;
      if (learns) expect(maxRelativeDifference(tensorOf(out, 'y_trained'), tensorOf(out, 'y'))).toBeGreaterThan(1e-4); // training changed something
    });
  });
});
