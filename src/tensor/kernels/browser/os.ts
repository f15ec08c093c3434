/**
 * The browser's stand-in for `node:os`, swapped in by the package.json
 * `browser` field (bundlers read it; Node never loads this file).
 *
 * wasm/runtime.ts asks availableParallelism() to choose 1 or 2 threads. Its
 * helper thread is a Node worker_threads Worker, which browsers lack, so
 * here the answer is 1: the WebAssembly kernels (when the runtime loads at
 * all) run on the calling thread. Web Worker threads replace this stand-in
 * once the runtime takes its host from an adapter (issue 15 item 4).
 */
export function availableParallelism(): number {
  return 1;
}
