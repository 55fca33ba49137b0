/**
 * `context.infer` of a JavaScript model (business logic scripting): the contract's tensors to a
 * request the worker posts to the primary, and the primary's answer back to tensors. The tensors
 * travel in the message (structured clone copies them once each way): a first version, simpler
 * than a ring of its own, and a request to another model is a whole inference anyway.
 */
import { isUtf8 } from 'node:buffer';
import { datatypeFromWire } from '../../dtypes.ts';
import type { InferOptions, Tensor, Tensors } from '../../javascript-model.ts';
import type { BackendHost, CallTensor, HostInferRequest } from './backend.ts';

/**
 * How the worker's BYTES strings hold their bytes: 'binary', one character per byte (a backend
 * with rawBytes, see backend.ts), or 'text', their UTF-8 decoding (while the primary decodes
 * every BYTES element as UTF-8; the setup says which).
 */
export type HostBytesForm = 'text' | 'binary';

/** A host string's bytes. */
export function stringBytes(s: string, form: HostBytesForm): Buffer {
  return Buffer.from(s, form === 'binary' ? 'latin1' : 'utf8');
}

/**
 * A BYTES element of the contract (bytes, or a string standing for its UTF-8) as a host string;
 * throws where the text form cannot carry the bytes exactly (they are not UTF-8).
 */
export function hostString(e: Uint8Array | string, form: HostBytesForm): string {
  const bytes = typeof e === 'string' ? Buffer.from(e, 'utf8') : Buffer.from(e.buffer, e.byteOffset, e.byteLength);
  if (form === 'binary') return bytes.toString('latin1');
  if (!isUtf8(bytes)) throw new Error('is not valid UTF-8, which this server carries only as text');
  return bytes.toString('utf8');
}

/** Runs `model` on `inputs` through the host; resolves to its outputs by name. */
export async function callModel(host: BackendHost, model: string, inputs: Tensors, options: InferOptions = {}): Promise<Tensors> {
  if (typeof model !== 'string' || model === '') throw new TypeError('context.infer: the model name must be a non-empty string');
  if (inputs === null || typeof inputs !== 'object') throw new TypeError('context.infer: inputs must be an object of tensors by name');
  const request: HostInferRequest = {
    model,
    version: options.version === undefined ? '' : String(options.version),
    inputs: Object.entries(inputs).map(([name, t]) => ({ name, datatype: t?.datatype, shape: Array.isArray(t?.shape) ? [...t.shape] : [], data: callData(name, t) })),
    outputs: options.outputs ? [...options.outputs] : null,
    parameters: { ...(options.parameters ?? {}) },
  };
  const result = await host.infer(request);
  const out: Record<string, Tensor> = {};
  for (const o of result.outputs) {
    const data = o.datatype === 'BYTES' ? (o.data as readonly Uint8Array[]).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)) : o.data;
    out[o.name] = { datatype: o.datatype, shape: o.shape, data } as Tensor;
  }
  return out;
}

/** A tensor's data as a call carries it: typed arrays as they are, BYTES as their bytes. */
function callData(name: string, t: Tensor): CallTensor['data'] {
  const dt = datatypeFromWire(t?.datatype);
  if (!dt) throw new TypeError(`context.infer: input '${name}' has unknown datatype '${String(t?.datatype)}'`);
  if (dt.wire === 'BYTES') {
    if (!Array.isArray(t.data) || t.data.some((e) => typeof e !== 'string' && !(e instanceof Uint8Array))) {
      throw new TypeError(`context.infer: input '${name}': BYTES data must be an array of Uint8Array (or string) elements`);
    }
    return t.data.map((e) => (typeof e === 'string' ? Buffer.from(e, 'utf8') : e));
  }
  if (!(t.data instanceof dt.array!)) throw new TypeError(`context.infer: input '${name}': ${dt.wire} data must be a ${dt.array!.name}`);
  return t.data as CallTensor['data'];
}
