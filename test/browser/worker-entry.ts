/** The scenario inside a Web Worker (where Atomics.wait is allowed); posts the result or the error to the page. */
import { runScenario } from './scenario.js';

const post = (globalThis as unknown as { postMessage(v: unknown): void }).postMessage;
runScenario().then(
  (scenario) => post({ scenario }),
  (e: unknown) => post({ scenarioError: String(e instanceof Error ? e.stack : e) }),
);
