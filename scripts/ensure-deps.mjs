#!/usr/bin/env node
/**
 * `npm start` and `npm test` run this first: it runs `npm ci` only when
 * node_modules does not match package-lock.json, instead of every time
 * (11 s per start, minutes without a network).
 *
 * node_modules matches when npm's own record of what it installed,
 * node_modules/.package-lock.json (written by every npm install/ci), lists the
 * same packages as package-lock.json at the same versions and integrity
 * hashes, every one of them is on disk, and nothing else is. Optional
 * packages for other platforms (esbuild's binaries) may be absent.
 *
 *   node scripts/ensure-deps.mjs           install if needed
 *   node scripts/ensure-deps.mjs --check   only say why an install is needed (exit 1) or not (exit 0)
 *
 * Plain Node (no dependencies), since it runs before they exist.
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why `installed` (node_modules/.package-lock.json) does not match `lock` (package-lock.json), or null if it does. */
export function lockMismatch(lock, installed, exists = () => true) {
  if (installed === null) return 'node_modules/.package-lock.json is missing (no install yet)';
  const want = lock.packages ?? {};
  const have = installed.packages ?? {};
  for (const [path, entry] of Object.entries(want)) {
    if (path === '' || entry.link) continue;
    const got = have[path];
    if (got === undefined) {
      if (entry.optional) continue; // a platform-specific optional package, skipped by npm
      return `${path} is not installed`;
    }
    if (got.version !== entry.version) return `${path} is ${got.version}, the lockfile wants ${entry.version}`;
    if ((got.integrity ?? got.resolved) !== (entry.integrity ?? entry.resolved)) return `${path} differs from the lockfile (integrity)`;
  }
  for (const path of Object.keys(have)) {
    if (!(path in want)) return `${path} is installed but not in the lockfile`;
    if (!have[path].link && !exists(join(path, 'package.json'))) return `${path} was removed from disk`;
  }
  return null;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** The mismatch for the project in `root`, or null. */
export function projectMismatch(root) {
  const lock = readJson(join(root, 'package-lock.json'));
  if (lock === null) return 'package-lock.json is missing or unreadable';
  const installed = readJson(join(root, 'node_modules', '.package-lock.json'));
  return lockMismatch(lock, installed, (p) => existsSync(join(root, p)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(import.meta.url), '..', '..');
  const why = projectMismatch(root);
  if (process.argv.includes('--check')) {
    console.log(why === null ? 'node_modules matches package-lock.json' : `install needed: ${why}`);
    process.exit(why === null ? 0 : 1);
  }
  if (why !== null) {
    console.error(`ensure-deps: ${why}; running npm ci`);
    execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
  }
}
