/** The page's script: runs the scenario and leaves the result (or the error) on globalThis for the test to read. */
import { runScenario } from './scenario.js';

const out = globalThis as { scenario?: unknown; scenarioError?: string; isolated?: boolean };
out.isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
runScenario().then(
  (r) => (out.scenario = r),
  (e: unknown) => (out.scenarioError = String(e instanceof Error ? e.stack : e)),
);
