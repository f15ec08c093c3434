/**
 * Loading the module without Buffer, and picking the thread host. The
 * decoder is checked against Node's Buffer (an independent base64
 * implementation) on the module itself and on every length mod 3.
 */
import { describe, expect, it } from 'vitest';
import { KERNELS_WASM_BASE64 } from '../../../src/tensor/kernels/wasm/kernels-wasm-bytes.js';
import { atomicsWaitAllowed, threadHost } from '../../../src/tensor/kernels/wasm/host.js';
import { browserThreadHost } from '../../../src/tensor/kernels/wasm/host-browser.js';
import { compileKernels, decodeBase64 } from '../../../src/tensor/kernels/wasm/load.js';

describe('decodeBase64', () => {
  it('decodes the kernels module to the bytes Buffer decodes', () => {
    const want = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    const got = decodeBase64(KERNELS_WASM_BASE64);
    expect(got.length).toBe(want.length);
    expect(Buffer.compare(Buffer.from(got), want)).toBe(0);
    expect([...got.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
  });

  it('decodes 0..7 bytes (every padding) like Buffer', () => {
    for (let n = 0; n < 8; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 255);
      expect([...decodeBase64(Buffer.from(bytes).toString('base64'))]).toEqual([...bytes]);
    }
  });

  it('compiles the module', () => {
    expect(compileKernels()).not.toBeNull();
  });
});

describe('threadHost', () => {
  it('is the Node host in Node, where this thread may block; the browser host is unavailable here (no Web Worker)', () => {
    expect(threadHost()?.name).toBe('node');
    expect(threadHost()!.canBlock()).toBe(true);
    expect(atomicsWaitAllowed()).toBe(true);
    expect(browserThreadHost.available()).toBe(typeof (globalThis as { Worker?: unknown }).Worker === 'function');
  });
});
