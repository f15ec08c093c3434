/**
 * Fresh consumer projects for the packed tarball, offline: `npm pack` once,
 * then each consumer gets node_modules/normgrad unpacked from the tarball and
 * copies of normgrad's runtime dependencies (and their dependencies) from
 * this repository's node_modules. Nothing is fetched; a consumer sees only
 * what the tarball and its declared dependencies provide.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
const REPO_MODULES = join(REPO, 'node_modules');

/** The packed package: the tarball, its unpacked tree and its size. */
export interface Packed {
  tarball: string;
  unpacked: string;
  bytes: number;
  files: number;
}

/** Runs a command with a time limit; throws with its output when it fails. */
export function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}\n${r.error ?? ''}`);
  }
  return r;
}

/** `npm pack` (which builds dist/ through the prepare script) into `dir`, then unpacks it. */
export function pack(dir: string): Packed {
  const r = run('npm', ['pack', '--json', '--pack-destination', dir], REPO, 240_000);
  const info = (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string; size: number; entryCount: number }[])[0]!;
  const tarball = join(dir, info.filename);
  const unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked);
  run('tar', ['xzf', tarball, '-C', unpacked], dir);
  return { tarball, unpacked: join(unpacked, 'package'), bytes: info.size, files: info.entryCount };
}

/** The package directories of `names` and everything they depend on, as found from this repository. */
function dependencyClosure(names: string[]): string[] {
  const seen = new Set<string>();
  const todo = [...names];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join(REPO_MODULES, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    todo.push(...Object.keys(pkg.dependencies ?? {}));
  }
  return [...seen];
}

/**
 * A new project at `dir` with `files` written, normgrad installed from the
 * packed tree, its dependencies, and `extra` packages (e.g. @types/node).
 */
export function consumer(dir: string, packed: Packed, files: Record<string, string>, extra: string[] = []): string {
  mkdirSync(dir, { recursive: true });
  cpSync(packed.unpacked, join(dir, 'node_modules/normgrad'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(packed.unpacked, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of dependencyClosure([...Object.keys(manifest.dependencies ?? {}), ...extra])) {
    const to = join(dir, 'node_modules', name);
    if (!existsSync(to)) cpSync(join(REPO_MODULES, name), to, { recursive: true, dereference: true });
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** This repository's TypeScript compiler, run on a consumer's tsconfig. */
export function tsc(dir: string, project = 'tsconfig.json'): SpawnSyncReturns<string> {
  return run(process.execPath, [join(REPO_MODULES, 'typescript/bin/tsc'), '-p', project], dir);
}

/**
 * A program that trains a small Conv2d + BatchNorm model with `fit` and
 * puts { before, after, backend, threads } in `result`, then runs the
 * statement `report`. `header` imports the names (an import or a require line).
 */
export function trainingProgram(header: string, report = 'console.log(JSON.stringify(result));'): string {
  return `${header}
const N = 32;
const rng = new Random(7);
const xs = new Float32Array(N * 6 * 6);
const ys = new Float32Array(N * 2);
for (let i = 0; i < N; i++) {
  let left = 0;
  for (let p = 0; p < 36; p++) {
    const v = rng.normal();
    xs[i * 36 + p] = v;
    if (p % 6 < 3) left += v; else left -= v;
  }
  ys[i * 2 + (left > 0 ? 1 : 0)] = 1;
}
const data = { x: new Tensor(xs, [N, 6, 6, 1]), y: new Tensor(ys, [N, 2]) };
const model = new Sequential([new Conv2d(4, 3, { padding: 'same' }), new BatchNorm(), new ReLU(), new Flatten(), new Dense(2)]);
const lossOf = () => evaluate(model, data, { loss: softmaxCrossEntropyWithLogits, metrics: [] }).loss;
const before = lossOf();
fit(model, data, { optimizer: new Adam({ learningRate: 0.02 }), loss: softmaxCrossEntropyWithLogits, batchSize: 16, epochs: 15, seed: 1 });
const after = lossOf();
const result = { before, after, backend: backend(), threads: threads() };
${report}
`;
}

/** The names trainingProgram uses. */
export const TRAINING_NAMES = 'Adam, BatchNorm, Conv2d, Dense, Flatten, Random, ReLU, Sequential, Tensor, backend, evaluate, fit, softmaxCrossEntropyWithLogits, threads';
