/**
 * The page's script: runs the scenario on the page's main thread, or with
 * `?in-worker` inside a module Web Worker (worker-entry.ts), and leaves the
 * result (or the error) on globalThis for the test to read.
 */
import { runScenario, type ScenarioResult } from './scenario.js';

interface Reply {
  scenario?: ScenarioResult;
  scenarioError?: string;
}
interface WebWorker {
  onmessage: ((e: { data: Reply }) => void) | null;
  onerror: ((e: { message?: string }) => void) | null;
}
const web = globalThis as unknown as {
  location: { search: string };
  Worker: new (url: string, options: { type: 'module' }) => WebWorker;
  crossOriginIsolated?: boolean;
};
const out = globalThis as Reply & { isolated?: boolean };
out.isolated = web.crossOriginIsolated === true;

if (web.location.search === '?in-worker') {
  const worker = new web.Worker('/worker.js', { type: 'module' });
  worker.onmessage = (e) => Object.assign(out, e.data);
  worker.onerror = (e) => (out.scenarioError = `the worker failed: ${e.message ?? 'unknown error'}`);
} else {
  runScenario().then(
    (r) => (out.scenario = r),
    (e: unknown) => (out.scenarioError = String(e instanceof Error ? e.stack : e)),
  );
}
