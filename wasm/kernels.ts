/**
 * The WebAssembly module's entry (built by wasm/build.mjs): the GEMM and the
 * convolution kernels built on it, compiled together so the convolutions call
 * gemmRows directly and both threads run one module.
 */
export * from './gemm';
export * from './conv';
