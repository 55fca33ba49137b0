/**
 * Registers the test-only `test_crash` backend (test/fixtures/backends/crash-backend.ts) in this
 * test process: a model whose config says `backend: "test_crash"` runs on onnxruntime, and its
 * worker dies on a batch whose first input value is CRASH_MARKER. Call before starting a server.
 */
import { registerBackend } from '../../src/workers/index.ts';

export { CRASH_MARKER } from '../fixtures/backends/crash-marker.ts';

export const CRASH_BACKEND = 'test_crash';

export function registerCrashBackend(): void {
  registerBackend(CRASH_BACKEND, new URL('../fixtures/backends/crash-backend.ts', import.meta.url));
}

/** `config` (config.pbtxt text) with its onnxruntime platform line swapped for the crash backend. */
export function onCrashBackend(config: string): string {
  const swapped = config.replace(/^platform: "onnxruntime_onnx"$/m, `backend: "${CRASH_BACKEND}"`);
  if (swapped === config) throw new Error('the config has no platform: "onnxruntime_onnx" line to swap');
  return swapped;
}
