/**
 * The WebAssembly module's entry (built by wasm/build.mjs): the GEMM, the
 * convolution kernels built on it, and the batch-norm training passes,
 * compiled together so the convolutions call gemmRows directly and both
 * threads run one module.
 */
export * from './gemm';
export * from './conv';
export * from './batch-norm';
export * from './adam';
