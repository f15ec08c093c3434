/**
 * Checkpoint files under hostile conditions: a FIFO or a device instead of a
 * file, headers that lie about sizes, stale temp files from killed saves,
 * the mode of the file being replaced, and errors that name the target.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dense, Sequential, noGrad, tensor, toBytes } from '../../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint-file.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normgrad-checkpoint-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function model(): Sequential {
  const m = new Sequential([new Dense(3)]);
  noGrad(() => m.call(tensor([[1, 2]]), { isTraining: false }));
  return m;
}

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

describe('loadCheckpoint refuses what is not a regular checkpoint file', () => {
  it('a FIFO and /dev/zero are refused at once (run in a child process, so a hang or a runaway read is a bounded failure)', () => {
    const fifo = path.join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    const script = path.join(dir, 'load.ts');
    const src = path.resolve('src/node.ts');
    fs.writeFileSync(script, [
      `import { Dense, Sequential, loadCheckpoint, noGrad, tensor } from ${JSON.stringify(src)};`,
      'const m = new Sequential([new Dense(3)]);',
      'noGrad(() => m.call(tensor([[1, 2]]), { isTraining: false }));',
      'for (const file of process.argv.slice(2)) {',
      '  try { loadCheckpoint(m, file); console.log("loaded"); } catch (e) { console.log((e as Error).message); }',
      '}',
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, fifo, '/dev/zero'], {
      encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 20, env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' },
    });
    expect(r.signal, r.stderr).toBeNull();
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`loadCheckpoint: cannot read '${fifo}': it is a FIFO (named pipe), not a regular file`);
    expect(lines[1]).toBe(`loadCheckpoint: cannot read '/dev/zero': it is a character device, not a regular file`);
  }, 90_000);

  it('a directory is refused', () => {
    expect(() => loadCheckpoint(model(), dir)).toThrow(`loadCheckpoint: cannot read '${dir}': it is a directory, not a regular file`);
  });

  it('the sizes the header declares are checked against the file size before the data is read', () => {
    const bytes = toBytes(model());
    const file = path.join(dir, 'm.safetensors');
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 4));
    expect(() => loadCheckpoint(model(), file)).toThrow(new RegExp(`its header declares ${bytes.length} bytes but the file has ${bytes.length - 4} \\(truncated\\)`));
    fs.writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(8)]));
    expect(() => loadCheckpoint(model(), file)).toThrow(new RegExp(`its header declares ${bytes.length} bytes but the file has ${bytes.length + 8} \\(extra bytes at the end\\)`));
    const lying = Buffer.from(bytes);
    lying.writeBigUInt64LE(1n << 40n, 0); // a header of a terabyte
    fs.writeFileSync(file, lying);
    expect(() => loadCheckpoint(model(), file)).toThrow(new RegExp(`its header claims ${2 ** 40} bytes but the file has ${bytes.length}`));
    fs.writeFileSync(file, Uint8Array.of(1, 2, 3));
    expect(() => loadCheckpoint(model(), file)).toThrow(/3 bytes is too short for a safetensors header/);
    fs.writeFileSync(file, bytes);
    loadCheckpoint(model(), file); // the untouched file loads
  });
});

describe('saveCheckpoint', () => {
  it('removes stale temp files of the same target left by dead processes, and nothing else', () => {
    const target = path.join(dir, 'model.safetensors');
    const dead = deadPid();
    const stale = [`model.safetensors.normgrad-${dead}-0.tmp`, `model.safetensors.normgrad-${dead}-17.tmp`];
    const kept = [
      `model.safetensors.normgrad-${process.pid}-999.tmp`, // this process: maybe mid-write
      'model.safetensors.normgrad-1-0.tmp', // pid 1 runs
      `other.safetensors.normgrad-${dead}-0.tmp`, // another target
      `model.safetensors.normgrad-${dead}-0.tmp.bak`, // not a temp name
    ];
    for (const f of [...stale, ...kept]) fs.writeFileSync(path.join(dir, f), 'x'.repeat(100));
    saveCheckpoint(model(), target);
    expect(fs.readdirSync(dir).sort()).toEqual([...kept, 'model.safetensors'].sort());
  });

  it('keeps the mode of the file it replaces', () => {
    const target = path.join(dir, 'secret.safetensors');
    for (const mode of [0o600, 0o640, 0o604]) {
      fs.writeFileSync(target, 'old');
      fs.chmodSync(target, mode);
      saveCheckpoint(model(), target);
      expect(fs.statSync(target).mode & 0o777).toBe(mode);
      expect(fs.readFileSync(target).length).toBeGreaterThan(3);
    }
  });

  it('errors name saveCheckpoint and the target, never the temp file', () => {
    const missing = path.join(dir, 'no', 'such', 'm.safetensors');
    expect(() => saveCheckpoint(model(), missing)).toThrow(`saveCheckpoint: cannot write '${missing}': ENOENT: no such file or directory`);
    const taken = path.join(dir, 'taken');
    fs.mkdirSync(taken);
    fs.writeFileSync(path.join(taken, 'keep'), 'x');
    let message = '';
    try {
      saveCheckpoint(model(), taken);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(new RegExp(`^saveCheckpoint: cannot write '${taken}': E[A-Z]+: `));
    expect(message).not.toMatch(/\.tmp/);
    expect(fs.readdirSync(dir)).toEqual(['taken']);
  });
});
