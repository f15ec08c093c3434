/** dist-demo/, where buildDemo writes. */
export const OUT_DIR: string;
/** Seed of the mnistSplit the asset holds. */
export const SPLIT_SEED: number;
/** The bytes of mnist.bin. */
export function mnistAsset(): Uint8Array;
/** Builds the demo into OUT_DIR; resolves to it. */
export function buildDemo(opts?: { quiet?: boolean }): Promise<string>;
