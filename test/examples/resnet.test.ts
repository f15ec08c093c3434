/**
 * The ResNet example: its model builder and training function run in-process
 * with a short configuration (it learns; the composite model's checkpoint
 * round trip predicts the same bits; summary() lists the blocks), and the
 * CLI is spawned only for --help and a bad flag (no training).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../helpers.js';
import { foldBatchNorm, fromBytes, loadCheckpoint, noGrad, saveCheckpoint, sliceRows, toBytes, type Sequential, type Tensor } from '../../src/node.js';
import { ResidualBlock } from '../../examples/resnet/residual-block.js';
import { buildResnet } from '../../examples/resnet/model.js';
import { accuracy, loadSplits, trainResnet, type Splits } from '../../examples/resnet/train.js';

const dir = mkdtempSync(join(tmpdir(), 'normgrad-resnet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BATCHES = 60;
let splits: Splits;
let model: Sequential;
let losses: number[];
let probe: Tensor; // 64 held-out validation images

beforeAll(async () => {
  splits = loadSplits(1);
  probe = sliceRows(splits.validation.x, 0, 64);
  model = buildResnet({ seed: 1 });
  const { history } = await trainResnet(model, splits, { epochs: 1, batches: BATCHES, batchSize: 32, lr: 0.005, seed: 1 });
  losses = history.steps.map((s) => s.loss);
}, 300_000);

const predict = (m: Sequential, x: Tensor): Float32Array => noGrad(() => m.call(x, { isTraining: false }).data);

describe('examples/resnet', () => {
  it('learns: the loss falls well below its start and held-out accuracy is far above chance', () => {
    expect(losses).toHaveLength(BATCHES);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-10));
    expect(first).toBeGreaterThan(1.8); // about ln(10) = 2.3 for an untrained 10-way softmax
    expect(last).toBeLessThan(0.5 * first);
    // The first 500 validation images were never trained on; chance is 0.1.
    const heldOut = { x: sliceRows(splits.validation.x, 0, 500), y: sliceRows(splits.validation.y, 0, 500) };
    expect(accuracy(model, heldOut)).toBeGreaterThan(0.6);
  });

  it('a checkpoint round trip (file and bytes) of the composite model predicts bit-identically', () => {
    const want = predict(model, probe);
    const fresh = () => {
      const m = buildResnet({ seed: 2 }); // other initial weights, so equal predictions mean the load worked
      predict(m, sliceRows(probe, 0, 2)); // build the weights (and the blocks' projections) first
      return m;
    };
    const file = join(dir, 'resnet.safetensors');
    saveCheckpoint(model, file);
    const fromFile = fresh();
    expect(Array.from(predict(fromFile, probe))).not.toEqual(Array.from(want));
    loadCheckpoint(fromFile, file);
    expect(Array.from(predict(fromFile, probe))).toEqual(Array.from(want));

    const fromMemory = fresh();
    fromBytes(fromMemory, toBytes(model));
    expect(Array.from(predict(fromMemory, probe))).toEqual(Array.from(want));
    // The moving statistics of a projection inside a block travelled too.
    expect(Array.from(fromMemory.stateDict().get('block3/shortcutBn/movingVariance')!.data))
      .toEqual(Array.from(model.stateDict().get('block3/shortcutBn/movingVariance')!.data));
  });

  it('folds every block\'s batch norms (batchNormPairs) and predicts the same logits to float rounding', () => {
    const folded = foldBatchNorm(model);
    expect([...folded.stateDict().keys()].some((k) => /bn|Bn/.test(k))).toBe(false); // every BN folded away
    expect(folded.stateDict().has('block2/shortcut/bias')).toBe(true); // the projection took its BN's shift
    // Logits of order 10; folding reorders float32 sums, so compare to 1e-4 relative plus 1e-4 absolute.
    expectClose(predict(folded, probe), predict(model, probe), { atol: 1e-4, rtol: 1e-4 });
  });

  it('summary() lists the blocks, their children and the totals', () => {
    const text = model.summary();
    for (const block of ['block1', 'block2', 'block3']) expect(text).toMatch(new RegExp(`^${block} +residual `, 'm'));
    expect(text).toMatch(/^ {2}block2\/shortcut +conv +\[\?, 14, 14, 16\] +128$/m); // 1x1 projection 8 -> 16
    expect(text).not.toMatch(/block1\/shortcut/); // 8 -> 8 channels, stride 1: an identity skip
    expect(text).toMatch(/^globalAvgPool1 +globalAvgPool +\[\?, 32\] +0$/m);
    expect(text).toMatch(/^dropout1 +dropout +\[\?, 32\] +0$/m);
    expect(text).toMatch(new RegExp(`Total params: ${model.countParams()}\\n`));
    expect(model.layers.filter((l) => l instanceof ResidualBlock)).toHaveLength(3);
  });

  it('stops after the current batch when the signal is aborted', async () => {
    const controller = new AbortController();
    const m = buildResnet({ seed: 3 });
    const { history } = await trainResnet(m, splits, {
      epochs: 1, batchSize: 16, lr: 0.005, seed: 3, signal: controller.signal,
      onBatch: (batch) => { if (batch === 2) controller.abort(); },
    });
    expect(history.stoppedBy).toBe('signal');
    expect(history.steps).toHaveLength(2);
  }, 60_000);
});

describe('examples/resnet CLI', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'examples/resnet.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('--help prints the usage and exits 0', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: npm run example:resnet/);
    expect(r.stdout).toMatch(/--epochs <n>/);
  }, 60_000);

  it('a bad flag exits 2 with a message', () => {
    const bad = cli('--epochs', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/resnet: --epochs needs a positive integer, got '0'/);
    const unknown = cli('--epoch', '3');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--epoch'/);
  }, 60_000);
});
