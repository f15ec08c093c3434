/**
 * The backend home (src/tensor/kernels/backend.ts): one switch for every
 * kernel, the deprecated gemm* names as aliases of it, and the layering rule
 * that nothing under src/autograd/ reaches into src/tensor/kernels/wasm/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../../../src/index.js';
import { backend, ready, setBackend, setThreads, threads, wasmAvailable } from '../../../src/tensor/kernels/backend.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    found.push(m[1] ?? m[2] ?? m[3]!);
  }
  return found;
}

describe('backend', () => {
  it('defaults to wasm where available, and setBackend returns the previous choice', () => {
    expect(backend()).toBe(wasmAvailable() ? 'wasm' : 'js');
    const previous = setBackend('js');
    try {
      expect(backend()).toBe('js');
      expect(api.gemmBackend()).toBe('js');
    } finally {
      expect(setBackend(previous)).toBe('js');
    }
    expect(backend()).toBe(previous);
  });

  it('rejects unknown backends and thread counts, naming the function called', () => {
    // @ts-expect-error not a backend
    expect(() => setBackend('gpu')).toThrow("setBackend: expected 'wasm' or 'js', got 'gpu'");
    // @ts-expect-error not a backend
    expect(() => api.setGemmBackend('gpu')).toThrow("setGemmBackend: expected 'wasm' or 'js', got 'gpu'");
    expect(() => setThreads(3 as 2)).toThrow('setThreads: n must be 1 or 2, got 3');
    expect(() => api.setGemmThreads(0 as 1)).toThrow('setGemmThreads: n must be 1 or 2, got 0');
  });

  it('the deprecated gemm* names are the same switch', async () => {
    const before = threads();
    try {
      api.setGemmThreads(1);
      expect(threads()).toBe(1);
      expect(api.gemmThreads()).toBe(1);
      expect(await api.gemmWasmReady()).toBe(false); // one thread: no helper to start
      if (wasmAvailable()) {
        setThreads(2);
        expect(api.gemmThreads()).toBe(2);
        expect(await ready()).toBe(true);
      }
    } finally {
      setThreads(before);
    }
    const previous = api.setGemmBackend('js');
    try {
      expect(backend()).toBe('js');
    } finally {
      api.setGemmBackend(previous);
    }
  });

  it('the public API exports the backend home', () => {
    expect(api.setBackend).toBe(setBackend);
    expect(api.backend).toBe(backend);
    expect(api.setThreads).toBe(setThreads);
    expect(api.threads).toBe(threads);
    expect(api.ready).toBe(ready);
  });
});

describe('layering', () => {
  it('no file under src/autograd/ imports from src/tensor/kernels/wasm/', () => {
    const wasmDir = resolve(root, 'src/tensor/kernels/wasm');
    const files = filesUnder(resolve(root, 'src/autograd'));
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolve(file, '..', spec))
        .filter((target) => target === wasmDir || target.startsWith(wasmDir + '/'))
        .map((target) => `${relative(root, file)} -> ${relative(root, target)}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the import scanner sees the imports it must catch', () => {
    // The batch-norm dispatch does import the wasm kernels: the scanner must find that.
    const specs = importsOf(resolve(root, 'src/tensor/kernels/batch-norm.ts'));
    expect(specs).toContain('./wasm/batch-norm-wasm.js');
  });
});
