/**
 * The JavaScript backend (`backend: "javascript"`): a model written as an ES module, one object
 * of its default-exported class per instance, on the instance's worker thread. The contract the
 * model sees is src/javascript-model.ts (docs/javascript-models.md); this module turns the
 * worker's batch of host tensors into that contract's requests and the model's responses back
 * into one batch of host tensors, failing only the requests whose response is an error.
 *
 * BYTES elements arrive as strings of one character per byte (the backend registers rawBytes)
 * and reach the model as Buffers over exactly those bytes; its BYTES outputs go back the same
 * way, so every byte value is carried.
 */
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { datatypeFromConfig, datatypeFromElement, elementCount, elementTypeOf, typedArrayOver, type DatatypeInfo, type TypedArray } from '../../dtypes.ts';
import type { JavaScriptModel, ModelContext, ModelRequest, ModelResponse, Tensor, Tensors } from '../../javascript-model.ts';
import type {
  Backend, BackendHost, BackendMetadata, BackendSetup, BatchRequests, HostTensor, HostTensors, RequestsOutcome, StreamedResponse,
} from './backend.ts';
import { callModel, hostString, stringBytes, type HostBytesForm } from './javascript-infer.ts';

/** The backend registry's entry point for 'javascript'. */
export function createBackend(host?: BackendHost): Backend {
  return new JavaScriptBackend(host);
}

/** An input or output the config declares. */
interface Declared {
  readonly name: string;
  readonly dt: DatatypeInfo;
  readonly dims: readonly number[];
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message || err.name : String(err));

export class JavaScriptBackend implements Backend {
  private model: JavaScriptModel | null = null;
  private modelName = '';
  private batched = false;
  private outputsDeclared = new Map<string, Declared>();
  private form: HostBytesForm = 'binary';
  private decoupled = false;

  constructor(private readonly host?: BackendHost) {}

  async load(setup: BackendSetup): Promise<BackendMetadata> {
    const config = setup.config ?? {};
    this.modelName = setup.model;
    this.form = setup.bytesForm ?? 'binary';
    this.decoupled = (config.model_transaction_policy as { decoupled?: boolean } | undefined)?.decoupled === true;
    this.batched = Number(config.max_batch_size ?? 0) > 0;
    const inputs = declared(config.input);
    const outputs = declared(config.output);
    this.outputsDeclared = new Map(outputs.map((o) => [o.name, o]));
    const file = setup.modelPath;
    if (file.endsWith('.ts') && !(process.features as { typescript?: unknown }).typescript) {
      throw new Error(`${path.basename(file)} is TypeScript, which this Node.js (${process.version}) cannot run; compile it to model.js, or use a Node.js that strips types`);
    }
    const modelDirectory = path.dirname(path.dirname(file));
    loadDotJsAsModules(modelDirectory);
    let exported: unknown;
    try {
      exported = (await import(pathToFileURL(file).href) as { default?: unknown }).default;
    } catch (err) {
      throw new Error(`cannot import ${file}: ${messageOf(err)}`);
    }
    if (typeof exported !== 'function') {
      throw new Error(`${file} must export a class by default (export default class { async execute(requests) { ... } })`);
    }
    const model = new (exported as new () => JavaScriptModel)();
    if (typeof model.execute !== 'function') throw new Error(`the default export of ${file} has no execute(requests) method`);
    const host = this.host;
    const context: ModelContext = {
      config,
      modelDirectory,
      modelName: setup.model,
      modelVersion: setup.version,
      instanceName: setup.instance ?? '',
      infer: (name, tensors, options) => {
        if (!host) return Promise.reject(new Error('context.infer is available only inside a server'));
        return callModel(host, name, tensors, options);
      },
    };
    if (typeof model.initialize === 'function') await model.initialize(context);
    this.model = model;
    const io = (t: Declared) => ({ name: t.name, type: elementTypeOf(t.dt), shape: this.batched ? [-1, ...t.dims] : [...t.dims] });
    return { inputs: inputs.map(io), outputs: outputs.map(io) };
  }

  /** A batch as one request (a caller that does not split it: a model without batching). */
  async execute(inputs: HostTensors, outputs: readonly string[]): Promise<HostTensors> {
    const rows = this.batched ? (Object.values(inputs)[0]?.dims[0] ?? 1) : 1;
    const outcome = await this.executeRequests(inputs, outputs, { rows: [rows], parameters: [undefined] });
    if (outcome.errors[0] !== null) throw new Error(outcome.errors[0]);
    return outcome.outputs;
  }

  async executeRequests(inputs: HostTensors, outputs: readonly string[], batch: BatchRequests): Promise<RequestsOutcome> {
    const model = this.model;
    if (!model) throw new Error('the model is not loaded');
    if (this.decoupled) return this.executeDecoupled(model, inputs, batch);
    const requests = this.requestsOf(inputs, batch);
    let responses: unknown;
    try {
      responses = await model.execute(requests);
    } catch (err) {
      // The instance stays up: only this batch's requests fail.
      return { outputs: {}, errors: requests.map(() => messageOf(err)) };
    }
    if (!Array.isArray(responses) || responses.length !== requests.length) {
      const got = Array.isArray(responses) ? `${responses.length} responses` : typeof responses;
      return { outputs: {}, errors: requests.map(() => `execute() must return one response per request: ${requests.length} requests, got ${got}`) };
    }
    return this.gather(responses as unknown[], outputs, batch.rows);
  }

  /**
   * A decoupled model's batch: each request gets `send`, whose responses go to the primary at
   * once (BackendHost.respond); when execute settles, every request without its final response
   * gets one (an error if execute threw). The outcome counts the responses, so the primary can
   * wait for them all before it settles the batch.
   */
  private async executeDecoupled(model: JavaScriptModel, inputs: HostTensors, batch: BatchRequests): Promise<RequestsOutcome> {
    const host = this.host;
    if (!host) throw new Error('a decoupled model runs only inside a server');
    const sent = batch.rows.map(() => 0);
    const done = batch.rows.map(() => false);
    const respond = (message: StreamedResponse): void => {
      host.respond(message);
      sent[message.request]++;
      if (message.final) done[message.request] = true;
    };
    const requests = this.requestsOf(inputs, batch).map((request, r): ModelRequest => ({
      ...request,
      send: (response, options = {}) => {
        if (done[r]) throw new Error('this request has had its final response');
        const final = options.final === true;
        if (response === null || response === undefined) {
          respond({ request: r, outputs: null, error: null, final });
          return;
        }
        const problem = this.checkStreamed(response);
        if (problem !== null) {
          respond({ request: r, outputs: null, error: problem, final });
          return;
        }
        const outputs = Object.entries((response as { outputs: Tensors }).outputs).map(([name, t]) => ({
          name,
          datatype: t.datatype,
          shape: [...t.shape],
          data: t.datatype === 'BYTES' ? (t.data as readonly (Uint8Array | string)[]).map((e) => hostString(e, this.form)) : t.data as TypedArray,
        }));
        respond({ request: r, outputs, error: null, final });
      },
    }));
    let failure: string | null = null;
    try {
      await model.execute(requests);
    } catch (err) {
      failure = messageOf(err);
    }
    requests.forEach((_, r) => {
      if (!done[r]) respond({ request: r, outputs: null, error: failure, final: true });
    });
    return { outputs: {}, errors: requests.map(() => null), streamed: sent };
  }

  /** Why a decoupled model's response cannot be sent (its error, or what does not fit the config), or null. */
  private checkStreamed(res: unknown): string | null {
    if (typeof res !== 'object') return `a response must be { outputs } or { error } (got ${typeof res})`;
    if ('error' in (res as object) && (res as { error: unknown }).error !== undefined) {
      const error = (res as { error: unknown }).error;
      return error instanceof Error ? error.message : String(error);
    }
    const outputs = (res as { outputs?: unknown }).outputs;
    if (outputs === null || typeof outputs !== 'object') return 'a response must be { outputs } or { error }';
    for (const [name, t] of Object.entries(outputs as Tensors)) {
      if (!this.outputsDeclared.has(name)) return `the response has an output '${name}', which the config does not declare`;
      const problem = this.checkTensor(name, t, Array.isArray(t?.shape) ? t.shape[0] : 0);
      if (problem) return problem;
    }
    return null;
  }

  async unload(): Promise<void> {
    const model = this.model;
    this.model = null;
    if (typeof model?.finalize === 'function') await model.finalize();
  }

  /** The batch's host tensors as one contract request per request: each its rows, BYTES as Buffers. */
  private requestsOf(inputs: HostTensors, batch: BatchRequests): ModelRequest[] {
    const requests: ModelRequest[] = [];
    let row = 0;
    for (let r = 0; r < batch.rows.length; r++) {
      const own = batch.rows[r];
      const tensors: Record<string, Tensor> = {};
      for (const name in inputs) {
        const t = inputs[name];
        const datatype = datatypeFromElementName(t.type);
        const perRow = this.batched ? elementCount(t.dims.slice(1)) : 0;
        const [from, to] = this.batched ? [row * perRow, (row + own) * perRow] : [0, Number.POSITIVE_INFINITY];
        const shape = this.batched ? [own, ...t.dims.slice(1)] : [...t.dims];
        const data = typeof (t.data as unknown[])[0] === 'string' || t.type === 'string'
          ? (t.data as readonly string[]).slice(from, to).map((s) => stringBytes(s, this.form))
          : (t.data as TypedArray).subarray(from, Math.min(to, t.data.length));
        tensors[name] = { datatype, shape, data } as Tensor;
      }
      requests.push({ inputs: tensors, parameters: batch.parameters[r] ?? {} });
      row += own;
    }
    return requests;
  }

  /**
   * The responses as one batch: every output in `names`, each request's rows back to back. A
   * request whose response is an error or does not fit keeps its rows, zero-filled, so every
   * other request's rows stay where the primary expects them; it is failed by its error.
   */
  private gather(responses: readonly unknown[], names: readonly string[], rows: readonly number[]): RequestsOutcome {
    const errors: (string | null)[] = responses.map((res, r) => this.check(res, names, rows[r]));
    // Trailing dims must agree across the batch; the first good request sets them.
    const tails = new Map<string, readonly number[]>();
    responses.forEach((res, r) => {
      if (errors[r] !== null) return;
      for (const name of names) {
        const shape = outputsOf(res)[name].shape;
        const tail = this.batched ? shape.slice(1) : shape;
        const seen = tails.get(name);
        if (!seen) tails.set(name, tail);
        else if (seen.length !== tail.length || seen.some((d, k) => d !== tail[k])) {
          errors[r] = `output '${name}' has shape [${shape}], which cannot be batched with the other requests' [${this.batched ? '<rows>,' : ''}${seen}]`;
          return;
        }
      }
    });
    if (errors.every((e) => e !== null)) return { outputs: {}, errors };
    const outputs: Record<string, HostTensor> = {};
    const total = this.batched ? rows.reduce((a, b) => a + b, 0) : 1;
    for (const name of names) {
      const dt = this.outputsDeclared.get(name)!.dt;
      const tail = tails.get(name)!;
      const perRow = elementCount(tail);
      const dims = this.batched ? [total, ...tail] : [...tail];
      const count = this.batched ? total * perRow : perRow;
      if (dt.wire === 'BYTES') {
        const strings: string[] = new Array(count).fill('');
        let at = 0;
        responses.forEach((res, r) => {
          const n = (this.batched ? rows[r] : 1) * perRow;
          if (errors[r] === null) {
            const data = outputsOf(res)[name].data as readonly (Uint8Array | string)[];
            for (let k = 0; k < n; k++) strings[at + k] = hostString(data[k], this.form);
          }
          at += n;
        });
        outputs[name] = { type: 'string', dims, data: strings };
      } else {
        const type = elementTypeOf(dt);
        const data = typedArrayOver(type, new ArrayBuffer(count * dt.byteSize), count * dt.byteSize);
        let at = 0;
        responses.forEach((res, r) => {
          const n = (this.batched ? rows[r] : 1) * perRow;
          if (errors[r] === null) (data as Uint8Array).set(outputsOf(res)[name].data as Uint8Array, at);
          at += n;
        });
        outputs[name] = { type, dims, data };
      }
    }
    return { outputs, errors };
  }

  /** Why response `res` cannot be used (its error, or what does not fit the config), or null. */
  private check(res: unknown, names: readonly string[], rows: number): string | null {
    if (res === null || typeof res !== 'object') return `a response must be { outputs } or { error } (got ${res === null ? 'null' : typeof res})`;
    if ('error' in res && (res as { error: unknown }).error !== undefined) {
      const error = (res as { error: unknown }).error;
      return error instanceof Error ? error.message : String(error);
    }
    const outputs = (res as { outputs?: unknown }).outputs;
    if (outputs === null || typeof outputs !== 'object') return 'a response must be { outputs } or { error }';
    for (const name of names) {
      const t = (outputs as Tensors)[name];
      if (t === undefined) return `the response has no output '${name}'`;
      const problem = this.checkTensor(name, t, rows);
      if (problem) return problem;
    }
    return null;
  }

  private checkTensor(name: string, t: Tensor, rows: number): string | null {
    const want = this.outputsDeclared.get(name)!.dt;
    if (t === null || typeof t !== 'object') return `output '${name}' must be { datatype, shape, data }`;
    if (t.datatype !== want.wire) return `output '${name}' has datatype ${String(t.datatype)}, but the config declares ${want.wire}`;
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) return `output '${name}': shape must be an array of non-negative integers`;
    if (this.batched && t.shape[0] !== rows) return `output '${name}' has batch size ${t.shape[0]}, but its request has ${rows}`;
    const count = elementCount(t.shape);
    if (want.wire === 'BYTES') {
      if (!Array.isArray(t.data) || t.data.some((e) => typeof e !== 'string' && !(e instanceof Uint8Array))) {
        return `output '${name}': BYTES data must be an array of Uint8Array (or string) elements`;
      }
      for (let k = 0; k < t.data.length; k++) {
        try {
          hostString(t.data[k], this.form);
        } catch (err) {
          return `output '${name}': element ${k} ${(err as Error).message}`;
        }
      }
    } else if (!(t.data instanceof want.array!)) {
      return `output '${name}': ${want.wire} data must be a ${want.array!.name}`;
    }
    if (t.data.length !== count) return `output '${name}' has ${t.data.length} elements, but its shape [${t.shape}] needs ${count}`;
    return null;
  }
}

const outputsOf = (res: unknown): Tensors => (res as { outputs: Tensors }).outputs;

function datatypeFromElementName(type: string): string {
  const dt = datatypeFromElement(type);
  if (!dt) throw new Error(`tensor type '${type}' has no datatype`);
  return dt.wire;
}

/** The config's input or output list (Triton's JSON form) as names, datatypes and dims. */
function declared(list: unknown): Declared[] {
  return ((list ?? []) as { name: string; data_type: string; dims?: (number | string)[] }[]).map((t) => {
    const dt = datatypeFromConfig(t.data_type);
    if (!dt) throw new Error(`tensor '${t.name}' has datatype ${t.data_type}, which is not known`);
    return { name: t.name, dt, dims: (t.dims ?? []).map(Number) };
  });
}

const registered = new Set<string>();

/**
 * Makes `.js` files in a model's directory load as ES modules. A model repository is the user's
 * folder, without a package.json saying `"type": "module"`, where Node.js would take a `.js` file
 * as CommonJS. Module customization hooks (node:module register, Node.js 20.6+) are the
 * documented way to say otherwise without touching the folder: `load` gives such files the
 * 'module' format (packages in a node_modules below keep their own), and `resolve` looks for a
 * bare package name that the model's folder cannot find among the packages installed beside
 * the server. The hooks run for this thread only; one registration per model directory.
 * Written inline as a data: URL because the hooks run on the loader's own thread, which loads
 * them without the TypeScript loader the tests use, and a data: URL needs no file in dist/.
 */
function loadDotJsAsModules(modelDirectory: string): void {
  const root = pathToFileURL(modelDirectory + path.sep).href;
  if (registered.has(root)) return;
  registered.add(root);
  const server = new URL('../../../package.json', import.meta.url).href;
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data: { root, server } });
}

const HOOKS = `
let root = '';
let server = '';
export function initialize(data) { root = data.root; server = data.server; }
const inside = (url) => typeof url === 'string' && url.startsWith(root) && !url.slice(root.length).split('/').includes('node_modules');
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const bare = !/^[./]/.test(specifier) && !/^[a-z][a-z0-9+.-]*:/i.test(specifier);
    if (bare && err && err.code === 'ERR_MODULE_NOT_FOUND' && inside(context.parentURL)) return next(specifier, { ...context, parentURL: server });
    throw err;
  }
}
export async function load(url, context, next) {
  if (inside(url) && url.endsWith('.js')) return next(url, { ...context, format: 'module' });
  return next(url, context);
}
`;
