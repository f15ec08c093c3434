/**
 * What Atomics.notify on the helper thread (WasmRuntime.wake) costs the main
 * thread: right after the helper ran (it is still polling), and after 5 ms and
 * 50 ms of main-thread work (it has gone to sleep in Atomics.wait).
 *   npx tsx bench/wake-cost.ts
 */
import { ready } from '../src/index.js';
import { wasmRuntime } from '../src/tensor/kernels/wasm/runtime.js';
async function main() {
  await ready();
  const rt = wasmRuntime()!;
  const orig = rt.wake.bind(rt);
  for (const pause of [0, 5, 50]) {
    const ts: number[] = [];
    for (let i = 0; i < 200; i++) {
      if (pause) { const t = Date.now(); while (Date.now() - t < pause) {} }
      const t0 = performance.now(); orig(); ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    console.log(`pause ${pause}ms before each: wake median ${ts[100]!.toFixed(4)} ms, p90 ${ts[180]!.toFixed(4)} ms`);
  }
}
void main();
