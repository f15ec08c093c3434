/**
 * Adam's WebAssembly update (src/tensor/kernels/wasm/adam-wasm.ts) against adamUpdate, the
 * TypeScript reference: w, m, v and the step count must be the same floats
 * (Object.is) after several steps, on awkward sizes (0, 1, odd lengths that
 * leave a scalar tail, a few thousand), with AdamW's shrink, and with
 * gradients holding 0, -0, NaN, Infinity, huge and tiny values. Then the
 * optimizers themselves: Adam and AdamW on the 'wasm' and 'js' backends give
 * the same bits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adamUpdate } from '../../src/optim/adam.js';
import { adamRowsWasm } from '../../src/tensor/kernels/wasm/adam-wasm.js';
import type { AdamSlot } from '../../src/optim/adam.js';
import type { Slots } from '../../src/optim/optimizer.js';
import { Adam, AdamW, setBackend, Tensor, wasmAvailable, type Backend } from '../../src/index.js';
import { Random } from '../../src/tensor/random.js';

/** adamUpdate's WebAssembly twin with its signature: the step counter and bias corrections here, the elementwise update in adamRowsWasm. */
function adamUpdateWasm(w: Float32Array, g: Float32Array, s: Slots<AdamSlot>, lr: number, b1: number, b2: number, eps: number, shrink: number): void {
  const t = s.step[0]! + 1;
  s.step[0] = t;
  adamRowsWasm(w, g, s.m, s.v, lr, b1, b2, eps, shrink, 1 / (1 - b1 ** t), 1 / (1 - b2 ** t));
}


function gradient(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = (2 * rng.next() - 1) * 10 ** Math.floor(6 * rng.next() - 4);
  const special = [0, -0, NaN, Infinity, 3e38, 1e-40, -1e-30];
  for (let i = 0; i < Math.min(n, special.length); i++) g[(i * 7) % n] = special[i]!;
  return g;
}

function expectSameFloats(what: string, got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what}[${i}]: ${got[i]}, expected ${want[i]}`);
}

describe.runIf(wasmAvailable())('adamUpdateWasm', () => {
  for (const n of [0, 1, 2, 3, 5, 17, 4099]) {
    for (const shrink of [1, 1 - 1e-3 * 0.01]) {
      it(`n = ${n}, shrink ${shrink}: the floats of adamUpdate over 4 steps`, () => {
        const rng = new Random(n + 1);
        const w0 = Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
        const ref = { w: Float32Array.from(w0), s: { m: new Float32Array(n), v: new Float32Array(n), step: new Float32Array(1) } };
        const fast = { w: Float32Array.from(w0), s: { m: new Float32Array(n), v: new Float32Array(n), step: new Float32Array(1) } };
        for (let step = 0; step < 4; step++) {
          const g = gradient(n, 100 * n + step);
          adamUpdate(ref.w, g, ref.s, 1e-3, 0.9, 0.999, 1e-7, shrink);
          adamUpdateWasm(fast.w, g, fast.s, 1e-3, 0.9, 0.999, 1e-7, shrink);
          expectSameFloats('w', fast.w, ref.w);
          expectSameFloats('m', fast.s.m, ref.s.m);
          expectSameFloats('v', fast.s.v, ref.s.v);
          expect(fast.s.step[0]).toBe(step + 1);
          expect(ref.s.step[0]).toBe(step + 1);
        }
        if (n > 7) expect(ref.w.some((x, i) => x !== w0[i])).toBe(true); // the update changed something
      });
    }
  }
});

describe.runIf(wasmAvailable())('Adam and AdamW on both backends', () => {
  let previous: Backend | undefined;
  afterEach(() => {
    if (previous) setBackend(previous);
  });
  for (const make of [() => new Adam({ learningRate: 1e-2 }), () => new AdamW({ learningRate: 1e-2, weightDecay: 0.1 })]) {
    it(`${make().constructor.name}: the same bits with 'wasm' and 'js'`, () => {
      const run = (b: Backend): Float32Array[] => {
        previous = setBackend(b);
        const params = [new Tensor(gradient(301, 1), [301]).requireGrad(), new Tensor(gradient(6, 2), [2, 3]).requireGrad()];
        const opt = make();
        for (let s = 0; s < 3; s++) {
          params.forEach((p, i) => { p.grad = new Tensor(gradient(p.size, 10 * s + i + 5).map((x) => (Number.isFinite(x) ? x : 0.5)), p.shape); });
          opt.step(params);
        }
        setBackend(previous!);
        return params.map((p) => p.data);
      };
      const js = run('js');
      const wasm = run('wasm');
      js.forEach((a, i) => expectSameFloats(`param ${i}`, wasm[i]!, a));
    });
  }
});
