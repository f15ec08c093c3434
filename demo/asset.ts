/** Reading mnist.bin, the digits asset demo/build.mjs writes (its format is documented there). */

export interface Data {
  /** All rows' pixels, uint8 row-major 28x28: train rows, then validation, then test. */
  images: Uint8Array;
  labels: Uint8Array;
  train: number;
  validation: number;
  test: number;
}

/** Parses mnist.bin; throws on a wrong magic or size. */
export function parseAsset(buf: ArrayBuffer): Data {
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'NGMN') throw new Error('mnist.bin: bad magic, rebuild the demo');
  const [train, validation, test] = [0, 1, 2].map((i) => view.getUint32(4 + 4 * i, true)) as [number, number, number];
  const n = train + validation + test;
  if (bytes.length !== 16 + n * 785) throw new Error(`mnist.bin: ${bytes.length} bytes, expected ${16 + n * 785}`);
  return { images: bytes.subarray(16, 16 + n * 784), labels: bytes.subarray(16 + n * 784), train, validation, test };
}
