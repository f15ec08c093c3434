/**
 * The MNIST example under faults: unwritable outputs are found before
 * training, bad inputs print one line (no stack) with a non-zero exit code
 * (2 for flags), and Ctrl-C stops after the current batch, writes --save and
 * exits 130.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dense, Sequential, loadCheckpoint, noGrad, saveCheckpoint, tensor, zeros } from '../../src/node.js';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';

const dir = mkdtempSync(join(tmpdir(), 'normgrad-mnist-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = ['--import', 'tsx', 'examples/mnist-batchnorm.ts'];

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...ARGS, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exactly one non-empty line on stderr, starting with the program's name, and no stack frame. */
function expectOneLine(stderr: string, message: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^mnist-batchnorm: /);
  expect(lines[0]).toMatch(message);
}

function builtLessonNetwork() {
  const model = lessonNetwork({ batchNorm: true, seed: 1 });
  noGrad(() => model.call(zeros([2, 28, 28, 1]), { isTraining: false }));
  return model;
}

describe('mnist-batchnorm CLI under faults', () => {
  it('an unwritable --save or --out is refused before training (exit 2, one line)', () => {
    const save = cli('--save', join(dir, 'no/such/dir/m.safetensors'), '--batches', '1', '--batch-size', '4');
    expect(save.status).toBe(2);
    expectOneLine(save.stderr, /--save '.*no\/such\/dir\/m\.safetensors': the directory '.*no\/such\/dir' does not exist/);
    expect(save.stdout).not.toMatch(/Training with/);

    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, 'x');
    const out = cli('--compare', '--out', aFile, '--batches', '1', '--batch-size', '4');
    expect(out.status).toBe(2);
    expectOneLine(out.stderr, /--out '.*a-file' is not a directory/);
    expect(out.stdout).not.toMatch(/Training with/);
  }, 120_000);

  it('--load with a missing, garbage, truncated or wrong-architecture file: one line, exit 1', () => {
    const good = join(dir, 'good.safetensors');
    saveCheckpoint(builtLessonNetwork(), good);
    const bytes = readFileSync(good);
    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const garbage = join(dir, 'garbage.safetensors');
    writeFileSync(garbage, 'this is not a checkpoint, just some text that goes on for a while');
    const other = new Sequential([new Dense(3)]);
    noGrad(() => other.call(tensor([[1, 2]]), { isTraining: false }));
    const wrong = join(dir, 'wrong.safetensors');
    saveCheckpoint(other, wrong);

    for (const [file, message] of [
      [join(dir, 'missing.safetensors'), /loadCheckpoint: cannot read '.*missing\.safetensors'/],
      [garbage, /loadCheckpoint: /],
      [truncated, /loadCheckpoint: .*(truncated|end of the file|bytes)/],
      [wrong, /loadCheckpoint: missing tensor 'conv1\/kernel'/],
    ] as const) {
      const r = cli('--load', file);
      expect(r.status, file).toBe(1);
      expectOneLine(r.stderr, message);
    }
  }, 120_000);

  it('--batch-size 100000 (exit 2) and --lr 1e30 (exit 1): one line each', () => {
    const big = cli('--batch-size', '100000');
    expect(big.status).toBe(2);
    expectOneLine(big.stderr, /--batch-size 100000 is larger than the 8000 training images/);

    const lr = cli('--lr', '1e30', '--batches', '5', '--batch-size', '8');
    expect(lr.status).toBe(1);
    expectOneLine(lr.stderr, /(non-finite|loss became NaN).*try a smaller --lr/);
  }, 120_000);

  it('Ctrl-C stops after the current batch, writes --save and exits 130', async () => {
    const file = join(dir, 'interrupted.safetensors');
    const child = spawn(process.execPath, [...ARGS, '--batches', '800', '--batch-size', '8', '--save', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (!sent && /Training with batch norm/.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(sent).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/Interrupted: stopping after the current batch/);
    const stoppedAt = Number(stdout.match(/Interrupted after batch (\d+) of 800/)![1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(1);
    expect(stoppedAt).toBeLessThan(800);
    expect(stdout).toMatch(/Saved checkpoint to .*interrupted\.safetensors/);
    expect(stdout).not.toMatch(/Final test accuracy/);
    loadCheckpoint(builtLessonNetwork(), file); // a whole checkpoint of this architecture
  }, 120_000);
});
