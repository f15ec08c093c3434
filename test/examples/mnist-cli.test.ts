/**
 * End to end: the MNIST experiment's CLI with tiny settings (exit codes and
 * output), a checkpoint round trip through --save/--load, and a short
 * training run of a small BN network on the real digits lowering the loss.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam, BatchNorm, Conv2d, Dense, Flatten, ReLU, Sequential, fit, mnistSplit, mnistTensors, sigmoidCrossEntropyWithLogits,
} from '../../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'normgrad-mnist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/mnist-batchnorm.ts', ...args], { encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mnist-batchnorm CLI', () => {
  it('trains a few batches, reports, recomputes, saves, and prints the lesson lines', () => {
    const file = join(dir, 'model.safetensors');
    const r = cli('--batches', '4', '--batch-size', '8', '--seed', '2', '--report', '--recompute', '--save', file);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/8000 train \/ 1000 validation \/ 1000 test images \(seed 2\)/);
    expect(r.stdout).toMatch(/Training with batch norm: 4 batches of 8, Adam lr 0.002, seed 2/);
    expect(r.stdout).toMatch(/Batch-norm health report/);
    expect(r.stdout).toMatch(/bn20/); // the dense layer's BN is in the report
    expect(r.stdout).toMatch(/Validation accuracy with recomputed population statistics \(50 batches\): 0\.\d+/);
    expect(r.stdout).toMatch(/Final validation accuracy 0\.\d{5}/);
    expect(r.stdout).toMatch(/Final test accuracy 0\.\d{5}/);
    expect(r.stdout).toMatch(/scored one at a time: (\d\.\d\d) \(the same 100 in one batch: \1\)/);
    expect(r.stdout).toMatch(/\| with batch norm \| 0\.\d{4} \| 0\.\d{4} \|/);
    expect(existsSync(file)).toBe(true);

    // --load evaluates the saved model: the same accuracies without training.
    const loaded = cli('--load', file, '--seed', '2');
    expect(loaded.status).toBe(0);
    expect(loaded.stdout).not.toMatch(/Training with/);
    const acc = (s: string) => s.match(/Final test accuracy (0\.\d+)/)![1];
    expect(acc(loaded.stdout)).toBe(acc(r.stdout));
  }, 300_000);

  it('--compare trains both networks and writes an SVG chart', () => {
    const r = cli('--compare', '--batches', '2', '--batch-size', '4', '--out', dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Training with batch norm/);
    expect(r.stdout).toMatch(/Training without batch norm/);
    expect(r.stdout).toMatch(/\| without batch norm \|/);
    const svg = readFileSync(join(dir, 'mnist-batchnorm-compare.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/validation accuracy/);
  }, 300_000);

  it('rejects bad flags with a clear message and exit code 2', () => {
    for (const [args, message] of [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--batches', '0'], /--batches needs a positive integer, got '0'/],
      [['--lr', 'fast'], /--lr needs a positive number, got 'fast'/],
      [['--compare', '--no-bn'], /--compare already runs without BN/],
    ] as const) {
      const r = cli(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/Usage: npm start/);
    }
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--no-bn/);
  }, 120_000);
});

describe('a small BN network on the real digits', () => {
  it('lowers the loss in 60 steps', () => {
    const { train } = mnistSplit({ seed: 3, trainSize: 2000, validationSize: 0, testSize: 0 });
    const data = mnistTensors(train);
    const model = new Sequential([
      new Conv2d(8, 3, { strides: 2, padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
      new Conv2d(16, 3, { strides: 2, padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
      new Flatten(), new Dense(10),
    ]);
    const h = fit(model, { x: data.x, y: data.y }, {
      optimizer: new Adam({ learningRate: 0.01 }), loss: sigmoidCrossEntropyWithLogits, batchSize: 32, steps: 60, seed: 3, metrics: ['accuracy'],
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(h.steps.slice(0, 5).map((s) => s.loss));
    const last = mean(h.steps.slice(-5).map((s) => s.loss));
    expect(last).toBeLessThan(first * 0.5);
    expect(mean(h.steps.slice(-5).map((s) => s.metrics.accuracy!))).toBeGreaterThan(0.6);
  }, 120_000);
});
