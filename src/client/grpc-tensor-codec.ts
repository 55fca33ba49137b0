/**
 * The client side of the gRPC tensor encoding: ClientTensors → ModelInferRequest (raw bytes or
 * typed contents) and ModelInferResponse → decoded outputs.
 */
import { decodeBytesElements } from '../protocol/index.ts';
import {
  CONTENTS_FIELD,
  parametersFromMessage,
  parametersToMessage,
  type InferInputTensorMessage,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  type TensorContentsMessage,
} from '../protocol/index.ts';
import { datatypeFromWire } from '../dtypes.ts';
import { sharedMemoryParameters, tensorBytes, type ClientOutput, type ClientShmTensor, type ClientTensor, type RequestedClientOutput } from './http-client.ts';

export interface GrpcInferOptions {
  readonly id?: string;
  readonly version?: string | number;
  /** The outputs to return (default: all), by name, or with a shared-memory region to write into. */
  readonly outputs?: readonly (string | RequestedClientOutput)[];
  readonly parameters?: Record<string, unknown>;
  /** 'raw' (default): raw_input_contents; 'typed': each input's typed contents field. */
  readonly contents?: 'raw' | 'typed';
}

export interface GrpcInferResult {
  readonly id: string;
  readonly model_name: string;
  readonly model_version: string;
  readonly parameters: Record<string, unknown>;
  /**
   * Data as typed arrays (strings for BYTES); an output written into shared memory has empty data
   * and its region's parameters (read it from the region).
   */
  readonly outputs: ClientOutput[];
}

const utf8 = new TextEncoder();

/** The typed contents of one tensor, in the field that fits its datatype. */
export function typedContents(t: ClientTensor): Partial<TensorContentsMessage> {
  const field = CONTENTS_FIELD[t.datatype];
  if (field === undefined) throw new Error(`unknown datatype ${t.datatype}`);
  const values = Array.from(t.data as ArrayLike<unknown>);
  if (field === null) {
    if (values.length === 0) return {};
    throw new Error(`${t.datatype} has no typed contents field; send it raw`);
  }
  switch (field) {
    case 'bool_contents':
      return { bool_contents: values.map(Boolean) };
    case 'int64_contents':
    case 'uint64_contents':
      return { [field]: values.map((v) => String(v)) };
    case 'bytes_contents':
      return { bytes_contents: values.map((v) => (v instanceof Uint8Array ? v : utf8.encode(String(v)))) };
    default:
      return { [field]: values.map(Number) };
  }
}

/**
 * A ModelInferRequest for `model` with the given inputs. Inputs in shared memory carry the
 * region's parameters and, as Triton expects, take no entry of raw_input_contents.
 */
export function encodeGrpcInferRequest(model: string, inputs: readonly (ClientTensor | ClientShmTensor)[], options: GrpcInferOptions = {}): ModelInferRequestMessage {
  const typed = options.contents === 'typed';
  const raw: Uint8Array[] = [];
  return {
    model_name: model,
    model_version: options.version === undefined ? '' : String(options.version),
    id: options.id ?? '',
    parameters: parametersToMessage(options.parameters),
    inputs: inputs.map((t): InferInputTensorMessage => {
      const base = { name: t.name, datatype: t.datatype, shape: [...t.shape] };
      if ('sharedMemory' in t) return { ...base, parameters: parametersToMessage(sharedMemoryParameters(t.sharedMemory)), contents: null };
      if (!typed) raw.push(tensorBytes(t));
      return { ...base, parameters: {}, contents: typed ? typedContents(t) : null };
    }),
    outputs: (options.outputs ?? []).map((o) => {
      if (typeof o === 'string') return { name: o, parameters: {} };
      if (o.sharedMemory) return { name: o.name, parameters: parametersToMessage(sharedMemoryParameters(o.sharedMemory)) };
      return { name: o.name, parameters: o.classCount ? { classification: { int64_param: o.classCount } } : {} };
    }),
    raw_input_contents: raw,
  };
}

/**
 * Decodes each output from raw_output_contents (or, from another server, typed contents). An
 * output whose parameters name shared_memory_region was written into that region: it comes back
 * with those parameters and no data, and has no raw entry (the entries line up with the others).
 */
export function decodeGrpcInferResponse(msg: ModelInferResponseMessage): GrpcInferResult {
  let next = 0;
  const outputs = msg.outputs.map((o): ClientOutput => {
    const shape = o.shape.map(Number);
    const dt = datatypeFromWire(o.datatype);
    if (!dt) throw new Error(`output '${o.name}' has unknown datatype ${o.datatype}`);
    const parameters = parametersFromMessage(o.parameters);
    if (parameters.shared_memory_region !== undefined) return { name: o.name, datatype: o.datatype, shape, data: [], parameters };
    const raw = msg.raw_output_contents[next++];
    let data: ClientOutput['data'];
    if (raw !== undefined) {
      const count = shape.reduce((n, d) => n * d, 1);
      data = dt.wire === 'BYTES'
        ? decodeBytesElements(raw, count, `output '${o.name}'`, 'lossy')
        // A copy, so the typed array is aligned and does not pin the response message.
        : new dt.array!(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    } else {
      const field = CONTENTS_FIELD[dt.wire];
      const values = (field && o.contents?.[field]) || [];
      data = field === 'bytes_contents' ? (values as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8')) : [...(values as unknown[])];
    }
    return { name: o.name, datatype: o.datatype, shape, data };
  });
  return { id: msg.id, model_name: msg.model_name, model_version: msg.model_version, parameters: parametersFromMessage(msg.parameters), outputs };
}
