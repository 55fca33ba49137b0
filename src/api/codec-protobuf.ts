/**
 * ModelInferRequest → checked request parts, and InferResponse → ModelInferResponse.
 * Order of work, as for HTTP: read the header (names, datatypes, shapes, outputs, parameters),
 * let checkRequest judge it against the model, and only then turn tensor contents into buffers.
 *
 * Tensor bytes: grpc-js hands over the whole message, and protobufjs decodes each entry of
 * raw_input_contents as a view into it (no copy); tensorFromRaw keeps that view, and the
 * batcher copies it once, straight into the batch's ring slot.
 */
import { datatypeFromWire, type DatatypeInfo } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import { checkedElementCount, type InputHeader, type RequestedOutput, type TensorData } from '../primary/infer-request.ts';
import type { InferResponse } from '../primary/scheduler.ts';
import { outputBytes, tensorFromRaw, tensorFromValues } from './codec-tensor.ts';
import {
  CONTENTS_FIELD,
  CONTENTS_FIELD_TYPE,
  parametersFromMessage,
  type InferInputTensorMessage,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  type ParameterMap,
  type TensorContentsMessage,
} from './grpc-messages.ts';

export interface DecodedGrpcRequest {
  readonly id: string | undefined;
  readonly inputs: readonly InputHeader[];
  readonly outputs: readonly RequestedOutput[] | null;
  readonly parameters: Readonly<Record<string, unknown>>;
}

const utf8 = new TextDecoder('utf-8');

/** The request's header, with features this server does not have refused by name. */
export function decodeGrpcInferRequest(msg: ModelInferRequestMessage): DecodedGrpcRequest {
  const inputs = msg.inputs.map((input): InputHeader => {
    refuseSharedMemory(input.parameters, `input '${input.name}'`);
    return { name: input.name, datatype: input.datatype, shape: input.shape.map(Number) };
  });
  const outputs = msg.outputs.length === 0 ? null : msg.outputs.map((o): RequestedOutput => {
    refuseSharedMemory(o.parameters, `output '${o.name}'`);
    if (o.parameters?.classification !== undefined) throw serverError('UNSUPPORTED', `output '${o.name}': the classification extension is not supported`);
    return { name: o.name, binary: false };
  });
  return { id: msg.id === '' ? undefined : msg.id, inputs, outputs, parameters: parametersFromMessage(msg.parameters) };
}

// System and CUDA shared memory are wired by the shared-memory issue; until then say so.
function refuseSharedMemory(parameters: ParameterMap | undefined, what: string): void {
  if (parameters?.shared_memory_region !== undefined) {
    throw serverError('UNSUPPORTED', `${what}: shared memory ${what.startsWith('input') ? 'inputs' : 'outputs'} are not supported yet`);
  }
}

/**
 * Each input's data as the scheduler takes it, from raw_input_contents (one entry per input,
 * in order) or from the input's typed contents. Call only after checkRequest passed.
 */
export function materializeGrpcInputs(msg: ModelInferRequestMessage, model: string): TensorData[] {
  const rid = msg.id || '<id_unknown>';
  const raw = msg.raw_input_contents;
  if (raw.length > 0) {
    const typed = msg.inputs.find((i) => i.contents !== null && i.contents !== undefined);
    if (typed) {
      throw serverError('BAD_DATA', rid, `contents field must not be specified when using raw_input_contents for '${typed.name}' for model '${model}'`);
    }
    if (raw.length !== msg.inputs.length) {
      throw serverError('DATA_SIZE_MISMATCH', rid, `raw_input_contents has ${raw.length} entries for the ${msg.inputs.length} inputs of the request for model '${model}'; give one per input, in order`);
    }
  }
  return msg.inputs.map((input, i) => {
    const dt = datatypeFromWire(input.datatype)!;
    const count = checkedElementCount(input.name, input.shape.map(Number), rid, model);
    if (raw.length > 0) return tensorFromRaw(input.name, dt, count, raw[i], rid);
    if (input.contents === null || input.contents === undefined) {
      throw serverError('BAD_DATA', rid, `unable to find data for input tensor '${input.name}' for model '${model}' in request`);
    }
    return fromContents(input, input.contents, dt, count, model, rid);
  });
}

function fromContents(input: InferInputTensorMessage, contents: Partial<TensorContentsMessage>, dt: DatatypeInfo, count: number, model: string, rid: string): TensorData {
  const field = CONTENTS_FIELD[dt.wire];
  // A value in any other field is a type mismatch, as Triton reports it.
  for (const [name, type] of Object.entries(CONTENTS_FIELD_TYPE) as [keyof TensorContentsMessage, string][]) {
    if (name !== field && (contents[name]?.length ?? 0) > 0) {
      throw serverError('BAD_DATA', rid, `unexpected explicit tensor data for input tensor '${input.name}' for model '${model}' of type '${type}', expected datatype '${dt.wire}'`);
    }
  }
  if (field === null) {
    // No field can hold FP16/BF16 values, so only an empty tensor can come typed (as in Triton).
    if (count === 0) return new ArrayBuffer(0);
    throw serverError('BAD_DATA', rid, `input '${input.name}' for model '${model}': ${dt.wire} has no typed contents field; send it in raw_input_contents`);
  }
  const values = contents[field] ?? [];
  switch (field) {
    case 'int64_contents':
    case 'uint64_contents':
      // Decimal strings from the loader; BigInt keeps every bit of them.
      return tensorFromValues(input.name, dt, count, (values as (string | number)[]).map((v) => BigInt(v)), rid);
    case 'bytes_contents':
      return tensorFromValues(input.name, dt, count, (values as Uint8Array[]).map((b) => utf8.decode(b)), rid);
    default:
      return tensorFromValues(input.name, dt, count, values as ArrayLike<unknown>, rid);
  }
}

/** The response message: the outputs in the scheduler's order, each as raw contents. */
export function encodeGrpcInferResponse(response: InferResponse): ModelInferResponseMessage {
  return {
    model_name: response.modelName,
    model_version: String(response.modelVersion),
    id: response.id ?? '',
    parameters: {},
    outputs: response.outputs.map((o) => ({ name: o.name, datatype: o.datatype.wire, shape: o.shape as number[], parameters: {}, contents: null })),
    raw_output_contents: response.outputs.map(outputBytes),
  };
}
