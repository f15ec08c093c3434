/**
 * The WebAssembly module's entry (built by wasm/build.mjs): the GEMM, the
 * convolution kernels built on it, batch norm's training passes and the
 * layer/group-norm kernels,
 * compiled together so the convolutions call gemmRows directly and both
 * threads run one module.
 */
export * from './gemm';
export * from './conv';
export * from './batch-norm';
export * from './adam';
export * from './group-norm';
