/**
 * The worker side of the backend registry: imports the module the primary resolved for a
 * model's backend and loads one instance from it. Runs once per worker thread, at start-up.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendHost, BackendMetadata, BackendModule, BackendSetup } from './backend.ts';

/** A loaded instance and the io it declared. */
export interface LoadedBackend {
  readonly backend: Backend;
  readonly metadata: BackendMetadata;
}

/**
 * Imports backend `name` from `moduleUrl` and loads the model of `setup` in it. Rejects with a
 * message naming the backend when the module cannot be imported or does not export
 * `createBackend`; a load error is the backend's own message. `host` is offered to the backend
 * (calls to other models).
 */
export async function loadBackend(name: string, moduleUrl: string, setup: BackendSetup, host?: BackendHost): Promise<LoadedBackend> {
  let module: Partial<BackendModule>;
  try {
    module = await importModule(moduleUrl);
  } catch (err) {
    throw new Error(`backend '${name}': cannot import ${moduleUrl} (${(err as Error).message})`);
  }
  if (typeof module.createBackend !== 'function') {
    throw new Error(`backend '${name}': ${moduleUrl} does not export createBackend()`);
  }
  const backend = module.createBackend(host);
  const metadata = await backend.load(setup);
  return { backend, metadata };
}

/**
 * Imports a backend module the way this thread loaded its own code. Built, everything is ESM and
 * import() does it. Under tsx (tests, development) piscina loads the worker's entry by require(),
 * which tsx's require hook compiles, while import() on a worker thread of Node.js 20 runs without
 * tsx's loader hooks and refuses a .ts file: so a .ts module is required instead, which also
 * shares this thread's module cache (a test backend that wraps the onnxruntime one gets the same
 * module instance).
 */
async function importModule(moduleUrl: string): Promise<Partial<BackendModule>> {
  if (moduleUrl.endsWith('.ts')) return createRequire(import.meta.url)(fileURLToPath(moduleUrl)) as Partial<BackendModule>;
  return await import(moduleUrl) as Partial<BackendModule>;
}
