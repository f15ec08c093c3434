/**
 * LayerNorm/GroupNorm kernels, WebAssembly against the TypeScript fast
 * kernel, A/B interleaved in one process: each round times one forward +
 * backward (gx, gGamma, gBeta) of each, in alternating order, so both see the
 * same machine load; reported as medians and their ratio (TS / wasm, above 1
 * means WebAssembly is faster). Also checks the two give the same bits.
 *
 *   npx tsx bench/group-norm-ab.ts [rounds]
 */
import { Random } from '../src/index.js';
import * as fast from '../src/tensor/kernels/group-norm-fast.js';
import type { GroupLayout } from '../src/tensor/kernels/group-norm-reference.js';
import { groupNormBackwardWasm, groupNormForwardWasm } from '../src/tensor/kernels/wasm/group-norm-wasm.js';
import { wasmAvailable } from '../src/tensor/kernels/backend.js';

if (!wasmAvailable()) throw new Error('group-norm-ab: no WebAssembly SIMD here');
const rounds = Number(process.argv[2] ?? 40);
const [N, H, W, C] = [32, 28, 28, 16];
const CASES: [string, GroupLayout][] = [
  ['GroupNorm, 4 groups', { n: N, s: H * W, g: 4, k: C / 4 }],
  ['LayerNorm over channels', { n: N * H * W, s: 1, g: 1, k: C }],
  ['InstanceNorm (16 groups)', { n: N, s: H * W, g: 16, k: 1 }],
];

const rng = new Random(1);
const values = (n: number, offset = 0): Float32Array => Float32Array.from({ length: n }, () => offset + 4 * rng.next() - 2);
const x = values(N * H * W * C, 3), gy = values(N * H * W * C), gamma = values(C, 1), beta = values(C);

type Impl = { forward: typeof fast.groupNormForward; backward: typeof fast.groupNormBackward };
const impls: Record<'ts' | 'wasm', Impl> = {
  ts: { forward: fast.groupNormForward, backward: fast.groupNormBackward },
  wasm: { forward: groupNormForwardWasm, backward: groupNormBackwardWasm },
};

/** [forward ms, backward ms] of one step, and the outputs (for the bit check). */
function step(impl: Impl, l: GroupLayout): { ms: [number, number]; out: Float32Array[] } {
  const t0 = performance.now();
  const f = impl.forward(x, l, gamma, beta, 1e-3);
  const t1 = performance.now();
  const b = impl.backward(x, gy, l, f.mean, f.invStd, gamma, true);
  const t2 = performance.now();
  return { ms: [t1 - t0, t2 - t1], out: [f.y, b.gx!, b.gGamma, b.gBeta] };
}

const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

for (const [name, l] of CASES) {
  const a = step(impls.ts, l).out, b = step(impls.wasm, l).out;
  const same = a.every((arr, i) => arr.every((v, j) => Object.is(v, b[i]![j])));
  if (!same) throw new Error(`${name}: WebAssembly and TypeScript differ`);
  for (let i = 0; i < 5; i++) (step(impls.ts, l), step(impls.wasm, l)); // warm-up
  const t: Record<'ts' | 'wasm', [number[], number[]]> = { ts: [[], []], wasm: [[], []] };
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? (['wasm', 'ts'] as const) : (['ts', 'wasm'] as const)) {
      const { ms } = step(impls[k], l);
      t[k][0].push(ms[0]);
      t[k][1].push(ms[1]);
    }
  }
  const total = (k: 'ts' | 'wasm'): number[] => t[k][0].map((v, i) => v + t[k][1][i]!);
  const line = (what: string, ts: number[], wasm: number[]): string =>
    `  ${what.padEnd(9)} ts ${median(ts).toFixed(2)} ms  wasm ${median(wasm).toFixed(2)} ms  ratio ${(median(ts) / median(wasm)).toFixed(2)}`;
  console.log(`${name} [${N},${H},${W},${C}] ${JSON.stringify(l)}, ${rounds} rounds, medians, same bits: ${same}`);
  console.log(line('forward', t.ts[0], t.wasm[0]));
  console.log(line('backward', t.ts[1], t.wasm[1]));
  console.log(line('both', total('ts'), total('wasm')));
}
