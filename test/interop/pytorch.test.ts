/**
 * PyTorch state dicts both ways, and the generated nn.Module.
 *
 * Everywhere: a state dict trained by PyTorch (committed fixture, written by
 * test/fixtures/interop/pytorch/make_fixture.py) loads into normgrad and
 * predicts what PyTorch predicted; normgrad's PyTorch-layout files have
 * PyTorch's names, layouts and dtypes and load back bit for bit.
 * Where python3 with torch is installed: the generated module loads normgrad's
 * file with strict=True and gives predict()'s outputs, PyTorch's training
 * step moves the BN statistics as normgrad's does, and a state dict PyTorch
 * trains further comes back.
 * Tolerance: max |a - b| / max |b| <= 1e-5 (measured figures logged).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';
import {
  BatchNorm, Dense, Layer, loadCheckpoint, predict, pytorchModuleSource, Random, recomputeBatchNormStatistics, saveCheckpoint, Sequential, Tensor,
} from '../../src/node.js';
import { fromBytes, toBytes } from '../../src/train/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/train/safetensors.js';
import { uniform } from '../helpers.js';
import { maxRelativeDifference } from './ort.js';
import { SMALL_INPUT_SHAPE, smallModel } from './small-model.js';

const TOLERANCE = 1e-5;
const FIXTURE = new URL('../fixtures/interop/pytorch/', import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIXTURE).pathname;
const measured: Record<string, number> = {};
afterAll(() => console.log(`PyTorch interop max |a - b| / max |b|: ${JSON.stringify(measured)}`));

const tensorOf = (file: string, name: string): Tensor => {
  const t = decodeSafetensors(readFileSync(file)).tensors.get(name)!;
  return new Tensor(t.data, t.shape);
};

/** Random weights everywhere and trained-looking BN statistics (as the ONNX test). */
function randomize(model: Layer, x: Tensor, seed: number): void {
  const rng = new Random(seed);
  for (const t of model.weights().values()) t.data.forEach((_, i, a) => (a[i] = 0.5 * rng.normal()));
  recomputeBatchNormStatistics(model, [x]);
  const visit = (layer: Layer): void => {
    if (layer instanceof Sequential) layer.layers.forEach(visit);
    if (!(layer instanceof BatchNorm)) return;
    layer.gamma?.data.forEach((_, i, a) => (a[i] = 0.5 + rng.next()));
    layer.movingVariance!.data.forEach((_, i, a) => (a[i] *= 0.8 + 0.4 * rng.next()));
  };
  visit(model);
}

/** I64 for every BN step counter in `m`, as PyTorch writes them. */
const counters = (m: Map<string, unknown>): Record<string, 'I64'> =>
  Object.fromEntries([...m.keys()].filter((k) => k.endsWith('.num_batches_tracked')).map((k) => [k, 'I64' as const]));

describe('a state dict written by PyTorch (committed fixture)', () => {
  it('small_model.py is still what pytorchModuleSource generates for the fixture\'s architecture', () => {
    expect(pytorchModuleSource(smallModel(), { className: 'SmallModel' })).toBe(readFileSync(fixturePath('small_model.py'), 'utf8'));
  });

  it('loads with { layout: "pytorch" } (int64 num_batches_tracked included) and predicts what PyTorch predicted', () => {
    const model = smallModel();
    loadCheckpoint(model, fixturePath('trained.safetensors'), { layout: 'pytorch' });
    const x = tensorOf(fixturePath('io.safetensors'), 'x');
    const expected = tensorOf(fixturePath('io.safetensors'), 'y');
    expect(x.shape).toEqual([6, ...SMALL_INPUT_SHAPE]);
    const rel = maxRelativeDifference(predict(model, x), expected);
    measured['fixture: PyTorch-trained -> normgrad'] = rel;
    expect(rel).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('saveCheckpoint / loadCheckpoint with { layout: "pytorch" }', () => {
  const built = (): Sequential => {
    const m = smallModel();
    randomize(m, uniform([8, ...SMALL_INPUT_SHAPE], 2), 3);
    return m;
  };

  it('writes PyTorch names, layouts (OIHW conv, [out, in] linear) and dtypes (I64 counters)', () => {
    const model = built();
    const { tensors, metadata } = decodeSafetensors(toBytes(model, { layout: 'pytorch' }));
    expect([...tensors.keys()].sort()).toEqual([...decodeSafetensors(readFileSync(fixturePath('trained.safetensors'))).tensors.keys()].sort());
    expect(metadata.format).toBe('pt');
    expect(tensors.get('features.1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    const [conv, bn, , block, , dense] = model.layers as [any, BatchNorm, unknown, Sequential, unknown, Dense];
    // conv1 kernel HWIO [3,3,2,3] -> weight OIHW [3,2,3,3]: weight[o,i,y,x] = kernel[y,x,i,o]
    const w = tensors.get('features.0.weight')!;
    expect(w.shape).toEqual([3, 2, 3, 3]);
    for (const [o, i, y, x] of [[0, 0, 0, 0], [2, 1, 0, 2], [1, 0, 2, 1], [2, 1, 2, 2]] as const) {
      expect(w.data[((o * 2 + i) * 3 + y) * 3 + x]).toBe(conv.kernel.data[((y * 3 + x) * 2 + i) * 3 + o]);
    }
    expect(tensors.get('features.3.0.weight')!.shape).toEqual([4, 3, 2, 3]);
    // dense1 kernel [24, 5] -> weight [5, 24]
    const lw = tensors.get('features.5.weight')!;
    expect(lw.shape).toEqual([5, 24]);
    for (const [o, i] of [[0, 0], [4, 23], [2, 17]] as const) expect(lw.data[o * 24 + i]).toBe(dense.kernel!.data[i * 5 + o]);
    expect(Array.from(tensors.get('features.1.running_var')!.data)).toEqual(Array.from(bn.movingVariance!.data));
    expect(Array.from(tensors.get('features.3.1.weight')!.data)).toEqual(Array.from((block.layers[1] as BatchNorm).gamma!.data));
  });

  it('loads its own file back bit for bit (F32), and as rounded values with dtype BF16', () => {
    const source = built();
    const target = smallModel();
    fromBytes(target, toBytes(source, { layout: 'pytorch' }), { layout: 'pytorch' });
    for (const [name, t] of source.stateDict()) expect(Array.from(target.stateDict().get(name)!.data), name).toEqual(Array.from(t.data));
    const half = smallModel();
    fromBytes(half, toBytes(source, { layout: 'pytorch', dtype: 'BF16' }), { layout: 'pytorch' });
    const k = half.stateDict().get('conv1/kernel')!.data;
    expect(k.every((v) => (new Uint32Array(Float32Array.of(v).buffer)[0]! & 0xffff) === 0)).toBe(true);
  });

  it('refuses a file that does not fit, naming every problem, and leaves the model as it was', () => {
    const good = decodeSafetensors(toBytes(built(), { layout: 'pytorch' })).tensors;
    const edited = (edit: (m: Map<string, Tensor>) => void, dtypes: Record<string, 'I64' | 'F32'> = {}): Uint8Array => {
      const m = new Map([...good].map(([k, v]) => [k, new Tensor(v.data, v.shape)]));
      edit(m);
      return encodeSafetensors(m, {}, { dtypes: { ...counters(m), ...dtypes } });
    };
    const model = smallModel();
    const before = [...model.stateDict().values()].map((t) => Array.from(t.data));
    const cases: [Uint8Array, RegExp][] = [
      [edited((m) => m.delete('features.3.1.running_mean')), /^fromBytes: missing tensor 'features.3.1.running_mean' \(for block\/bn1\)$/],
      [edited((m) => m.set('features.9.weight', new Tensor(new Float32Array(1), [1]))), /unexpected tensor 'features.9.weight'/],
      [edited((m) => m.set('features.5.weight', new Tensor(new Float32Array(120), [24, 5]))), /'features.5.weight' has shape \[24,5\] in the file but \[5,24\] for dense1/],
      [edited(() => {}, { 'features.1.num_batches_tracked': 'F32' }), /^fromBytes: 'features.1.num_batches_tracked' must be an integer scalar \(PyTorch writes int64\), got F32 \[\]$/],
    ];
    for (const [bytes, message] of cases) expect(() => fromBytes(model, bytes, { layout: 'pytorch' })).toThrow(message);
    expect([...model.stateDict().values()].map((t) => Array.from(t.data))).toEqual(before);
  });

  it('maps BatchNorm without beta (center: false) to bias zeros, and refuses a non-zero one', () => {
    const model = new Sequential([new Dense(3), new BatchNorm({ center: false })]);
    model.call(uniform([2, 4], 0), { isTraining: true });
    const { tensors } = decodeSafetensors(toBytes(model, { layout: 'pytorch' }));
    expect(Array.from(tensors.get('features.1.bias')!.data)).toEqual([0, 0, 0]);
    fromBytes(model, toBytes(model, { layout: 'pytorch' }), { layout: 'pytorch' });
    const m = new Map([...tensors].map(([k, v]) => [k, new Tensor(v.data, v.shape)]));
    m.get('features.1.bias')!.data[1] = 0.5;
    expect(() => fromBytes(model, encodeSafetensors(m, {}, { dtypes: counters(m) }), { layout: 'pytorch' })).toThrow(/'features.1.bias' holds 0.5 at index 1, but bn1 has no beta \(center: false\), so it must be 0/);
  });

  it('refuses what a PyTorch state dict cannot hold', () => {
    const model = built();
    expect(() => toBytes(model, { layout: 'pytorch', optimizer: { stateDict: () => new Map(), loadStateDict: () => {} } })).toThrow(/holds the model only; PyTorch keeps optimizer state apart/);
    expect(() => toBytes(model, { layout: 'torch' as never })).toThrow(/layout must be one of 'normgrad', 'pytorch'/);
    class Odd extends Layer {
      readonly kind = 'odd';
      constructor() { super('odd'); }
      protected forward(x: Tensor): Tensor { return x; }
    }
    const odd = new Sequential([new Dense(2), new Odd()]);
    odd.call(uniform([1, 2], 0), { isTraining: false });
    expect(() => toBytes(odd, { layout: 'pytorch' })).toThrow(/layer 'odd1' \(Odd, kind 'odd'\) has no PyTorch mapping/);
    expect(() => pytorchModuleSource(odd)).toThrow(/layer 'odd1' \(Odd, kind 'odd'\) has no PyTorch module/);
  });
});

// python3 with torch: Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 may shadow it).
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
const withTorch = PYTHON ? `with PyTorch (${PYTHON})` : 'SKIPPED: no python3 with torch found (apt-get install python3-torch)';

/**
 * Runs in python: loads `weights` into the generated module `<name>.py` strictly, and writes
 * out.safetensors with y (eval output on x), y_trained (eval output after two SGD steps on
 * mean(y^2)), after_one.<running stats> (after one training forward from the loaded state),
 * and trained.safetensors (the state dict after training).
 */
function runInTorch(dir: string, name: string, className: string): void {
  const script = `
import sys; sys.path.insert(0, ${JSON.stringify(dir)})
import copy, torch
from ${name} import ${className} as Model, load_safetensors, save_safetensors
d = ${JSON.stringify(dir)}
m = Model()
m.load_state_dict(load_safetensors(d + '/weights.safetensors'), strict=True)
x = load_safetensors(d + '/x.safetensors')['x']
m.eval()
with torch.no_grad():
    y = m(x)
one = copy.deepcopy(m).train()
with torch.no_grad():
    one(x)  # one training forward: BN running statistics move by PyTorch's rule
after_one = {k: v for k, v in one.state_dict().items() if 'running' in k}
m.train()
opt = torch.optim.SGD(m.parameters(), lr=0.05)
for _ in range(2):
    loss = m(x).square().mean()
    opt.zero_grad(); loss.backward(); opt.step()
m.eval()
with torch.no_grad():
    y_trained = m(x)
save_safetensors({'y': y, 'y_trained': y_trained, **{'after_one.' + k: v for k, v in after_one.items()}}, d + '/out.safetensors')
save_safetensors(m.state_dict(), d + '/trained.safetensors')
`;
  const run = spawnSync(PYTHON!, ['-c', script], { encoding: 'utf8', timeout: 240_000 });
  expect(run.status, run.stderr).toBe(0);
}

describe(`the generated nn.Module, run ${withTorch}`, () => {
  const cases: [string, () => Sequential, number[], number][] = [
    ['the lesson network (19 convs with BN, random weights, trained-looking statistics)', () => lessonNetwork({ batchNorm: true, seed: 3 }), [28, 28, 1], 0.3],
    ['the small fixture model (nested Sequential, VALID/SAME convs, BN on vectors, sigmoid/tanh)', smallModel, SMALL_INPUT_SHAPE, 1],
  ];
  for (const [label, make, inputShape, weightScale] of cases) {
    it.runIf(PYTHON !== undefined)(`${label}: loads normgrad's file with strict=True, gives predict()'s outputs; PyTorch-trained weights come back`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'normgrad-torch-'));
      try {
        const model = make();
        const x = uniform([8, ...inputShape], 4, 0, 1);
        model.call(x, { isTraining: false });
        randomize(model, x, 6);
        for (const t of model.weights().values()) t.data.forEach((v, i, a) => (a[i] = v * weightScale)); // keep deep activations in range
        writeFileSync(join(dir, 'generated_model.py'), pytorchModuleSource(model));
        saveCheckpoint(model, join(dir, 'weights.safetensors'), { layout: 'pytorch' });
        writeFileSync(join(dir, 'x.safetensors'), encodeSafetensors(new Map([['x', x]])));
        runInTorch(dir, 'generated_model', 'NormgradModel');
        const out = join(dir, 'out.safetensors');

        const rel = maxRelativeDifference(tensorOf(out, 'y'), predict(model, x));
        measured[`${label.split(' (')[0]}: normgrad -> PyTorch`] = rel;
        expect(rel).toBeLessThanOrEqual(TOLERANCE);

        const back = make();
        back.call(x, { isTraining: false }); // build
        loadCheckpoint(back, join(dir, 'trained.safetensors'), { layout: 'pytorch' });
        const relBack = maxRelativeDifference(predict(back, x), tensorOf(out, 'y_trained'));
        measured[`${label.split(' (')[0]}: PyTorch-trained -> normgrad`] = relBack;
        expect(relBack).toBeLessThanOrEqual(TOLERANCE);
        expect(maxRelativeDifference(tensorOf(out, 'y_trained'), tensorOf(out, 'y'))).toBeGreaterThan(1e-3); // training changed something

        if (make === smallModel) {
          // One training call moves normgrad's moving statistics as PyTorch's training forward moved its
          // running statistics: momentum 1 - m, unbiased variance, epsilon. (Not on the 19-layer network:
          // there, training-mode BN of near-constant channels amplifies float rounding layer after layer.)
          model.call(x, { isTraining: true });
          const mine = decodeSafetensors(toBytes(model, { layout: 'pytorch' })).tensors;
          let statsRel = 0;
          for (const [name, t] of decodeSafetensors(readFileSync(out)).tensors) {
            if (!name.startsWith('after_one.')) continue;
            const m = mine.get(name.slice('after_one.'.length))!;
            statsRel = Math.max(statsRel, maxRelativeDifference(new Tensor(m.data, m.shape), new Tensor(t.data, t.shape)));
          }
          measured['BN running statistics after one training call'] = statsRel;
          expect(statsRel).toBeLessThanOrEqual(TOLERANCE);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
