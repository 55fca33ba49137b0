/**
 * Backend names (a model config's `backend` field) to the URL of the module that implements
 * them. The primary resolves a model's backend here before it starts any worker, so an unknown
 * name fails that model's load with a reason that names it; the worker then imports the module
 * from its URL (load-backend.ts). Only URLs live here, never the modules: the primary thread does
 * not load a runtime it never runs.
 *
 * The table is per process. 'onnxruntime' is built in; a test process registers its own backends
 * (for example one whose worker dies on a marked batch) before it starts a server, which keeps
 * test-only behaviour out of the data path of every batch.
 */

// The same kind of file as this module: .ts under tsx, .js once built.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const BUILT_IN: Readonly<Record<string, string>> = Object.freeze({
  onnxruntime: new URL(`./onnxruntime${ext}`, import.meta.url).href,
});

const registered = new Map<string, string>(Object.entries(BUILT_IN));

/**
 * Makes `name` a backend a model config may name, implemented by the module at `moduleUrl` (a
 * file: URL to a module that exports `createBackend()`, see backend.ts). Registering the same URL
 * again is harmless; a built-in name, or a name already bound to another module, is refused.
 */
export function registerBackend(name: string, moduleUrl: string | URL): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_]+$/.test(name)) {
    throw new TypeError(`backend name must be letters, digits and underscores (got '${String(name)}')`);
  }
  let url: URL;
  try {
    url = new URL(String(moduleUrl));
  } catch {
    throw new TypeError(`backend '${name}': module must be a file: URL (got '${String(moduleUrl)}')`);
  }
  if (url.protocol !== 'file:') throw new TypeError(`backend '${name}': module must be a file: URL (got '${url.href}')`);
  if (name in BUILT_IN) throw new Error(`backend '${name}' is built in and cannot be replaced`);
  const bound = registered.get(name);
  if (bound !== undefined && bound !== url.href) throw new Error(`backend '${name}' is already registered, to ${bound}`);
  registered.set(name, url.href);
}

/** The module URL of backend `name`; throws a message naming it and the known ones when unknown. */
export function backendModuleUrl(name: string): string {
  const url = registered.get(name);
  if (url === undefined) {
    throw new Error(`backend '${name}' is not known; the backends here are: ${[...registered.keys()].join(', ')}`);
  }
  return url;
}
