/**
 * scripts/ensure-deps.mjs: `npm start` and `npm test` install only when
 * node_modules does not match package-lock.json. Each case builds a small
 * project in a temp directory and asks the script (--check, no install, no
 * network) whether an install is needed.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve('scripts/ensure-deps.mjs');
let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'normgrad-deps-'));
  fs.mkdirSync(path.join(root, 'scripts'));
  fs.copyFileSync(SCRIPT, path.join(root, 'scripts', 'ensure-deps.mjs'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const pkg = (version: string, extra: object = {}) => ({ version, integrity: `sha512-${version}`, ...extra });
const lock = (packages: Record<string, object>) => ({ name: 'p', lockfileVersion: 3, packages: { '': { name: 'p' }, ...packages } });

function project(wanted: Record<string, object>, installed: Record<string, object> | null, onDisk: string[] = Object.keys(installed ?? {})): void {
  fs.writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify(lock(wanted)));
  if (installed === null) return;
  fs.mkdirSync(path.join(root, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(root, 'node_modules', '.package-lock.json'), JSON.stringify({ name: 'p', lockfileVersion: 3, packages: installed }));
  for (const p of onDisk) {
    fs.mkdirSync(path.join(root, p), { recursive: true });
    fs.writeFileSync(path.join(root, p, 'package.json'), '{}');
  }
}

function check(): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'ensure-deps.mjs'), '--check'], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim() };
}

describe('ensure-deps', () => {
  it('a fresh clone (no node_modules) needs an install', () => {
    project({ 'node_modules/a': pkg('1.0.0') }, null);
    expect(check()).toEqual({ status: 1, out: 'install needed: node_modules/.package-lock.json is missing (no install yet)' });
  });

  it('node_modules matching the lockfile needs none; optional packages for other platforms may be absent', () => {
    project({ 'node_modules/a': pkg('1.0.0'), 'node_modules/@x/linux-arm': pkg('2.0.0', { optional: true }) }, { 'node_modules/a': pkg('1.0.0') });
    expect(check()).toEqual({ status: 0, out: 'node_modules matches package-lock.json' });
  });

  it('a changed version, a changed hash, a missing, an extra or a deleted package needs an install', () => {
    const want = { 'node_modules/a': pkg('1.0.0'), 'node_modules/b': pkg('3.0.0') };
    const cases: [Record<string, object>, string[] | undefined, RegExp][] = [
      [{ 'node_modules/a': pkg('0.9.0'), 'node_modules/b': pkg('3.0.0') }, undefined, /node_modules\/a is 0\.9\.0, the lockfile wants 1\.0\.0/],
      [{ 'node_modules/a': { version: '1.0.0', integrity: 'sha512-other' }, 'node_modules/b': pkg('3.0.0') }, undefined, /node_modules\/a differs from the lockfile/],
      [{ 'node_modules/a': pkg('1.0.0') }, undefined, /node_modules\/b is not installed/],
      [{ ...want, 'node_modules/c': pkg('1.0.0') }, undefined, /node_modules\/c is installed but not in the lockfile/],
      [want, ['node_modules/a'], /node_modules\/b was removed from disk/],
    ];
    for (const [installed, onDisk, why] of cases) {
      fs.rmSync(path.join(root, 'node_modules'), { recursive: true, force: true });
      project(want, installed, onDisk);
      const r = check();
      expect(r.status).toBe(1);
      expect(r.out).toMatch(why);
    }
  });

  it('this checkout is installed, and npm start / npm test go through the check instead of npm ci', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('node_modules matches package-lock.json');
    expect(r.status).toBe(0);
    const scripts = JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts as Record<string, string>;
    for (const name of ['start', 'test']) {
      expect(scripts[name]!.startsWith('node scripts/ensure-deps.mjs && ')).toBe(true);
      expect(scripts[name]).not.toMatch(/npm ci/);
    }
  });
});
