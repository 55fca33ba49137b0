/**
 * Backend names (a model config's `backend` field) to the URL of the module that implements
 * them. The primary resolves a model's backend here before it starts any worker, so an unknown
 * name fails that model's load with a reason that names it; the worker then imports the module
 * from its URL (load-backend.ts). Only URLs live here, never the modules: the primary thread does
 * not load a runtime it never runs.
 *
 * The table is per process. 'onnxruntime' and 'javascript' are built in; a test process registers its own backends
 * (for example one whose worker dies on a marked batch) before it starts a server, which keeps
 * test-only behaviour out of the data path of every batch.
 */

// The same kind of file as this module: .ts under tsx, .js once built.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * What the primary must know of a backend before a request reaches its thread (the module
 * itself is loaded by the worker only).
 */
export interface BackendCapabilities {
  /**
   * The backend takes and gives BYTES elements as raw bytes (strings of one character per byte,
   * see bytes-elements.ts), so every element is carried exactly. False: it takes UTF-8 text, and
   * an element that is not UTF-8 or holds a NUL byte is refused before it is queued.
   * onnxruntime is false: onnxruntime-node passes strings as NUL-terminated UTF-8.
   */
  readonly rawBytes: boolean;
}

const kTextBytes: BackendCapabilities = Object.freeze({ rawBytes: false });

interface Entry {
  readonly url: string;
  readonly capabilities: BackendCapabilities;
}

const BUILT_IN: Readonly<Record<string, Entry>> = Object.freeze({
  onnxruntime: { url: new URL(`./onnxruntime${ext}`, import.meta.url).href, capabilities: kTextBytes },
  // Models written in JavaScript get BYTES elements as Uint8Arrays: every byte carried.
  javascript: { url: new URL(`./javascript${ext}`, import.meta.url).href, capabilities: Object.freeze({ rawBytes: true }) },
});

const registered = new Map<string, Entry>(Object.entries(BUILT_IN));

/**
 * Makes `name` a backend a model config may name, implemented by the module at `moduleUrl` (a
 * file: URL to a module that exports `createBackend()`, see backend.ts). Registering the same URL
 * again is harmless; a built-in name, or a name already bound to another module, is refused.
 * `capabilities` says what the primary must know of it (rawBytes: see BackendCapabilities).
 */
export function registerBackend(name: string, moduleUrl: string | URL, capabilities: Partial<BackendCapabilities> = {}): void {
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
  const caps: BackendCapabilities = Object.freeze({ rawBytes: capabilities.rawBytes === true });
  const bound = registered.get(name);
  if (bound !== undefined && (bound.url !== url.href || bound.capabilities.rawBytes !== caps.rawBytes)) {
    throw new Error(`backend '${name}' is already registered, to ${bound.url}`);
  }
  registered.set(name, { url: url.href, capabilities: caps });
}

/** What backend `name` can carry; throws as backendModuleUrl does when it is unknown. */
export function backendCapabilities(name: string): BackendCapabilities {
  return entry(name).capabilities;
}

/** The module URL of backend `name`; throws a message naming it and the known ones when unknown. */
export function backendModuleUrl(name: string): string {
  return entry(name).url;
}

function entry(name: string): Entry {
  const found = registered.get(name);
  if (found === undefined) {
    throw new Error(`backend '${name}' is not known; the backends here are: ${[...registered.keys()].join(', ')}`);
  }
  return found;
}
