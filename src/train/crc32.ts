/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), one table lookup per byte:
 *   crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8), starting from and finishing with ~.
 * Checkpoints store it in the safetensors metadata to catch corrupt files.
 */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes` as an unsigned integer (`crc32(utf8('123456789')) === 0xcbf43926`). */
export function crc32(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new Error(`crc32: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
