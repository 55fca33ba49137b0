/**
 * ModelInferRequest → checked request parts, and InferResponse → ModelInferResponse.
 * Order of work, as for HTTP: read the header (names, datatypes, shapes, outputs, parameters),
 * let checkRequest judge it against the model, and only then turn tensor contents into buffers.
 *
 * Tensor bytes: grpc-js hands over the whole message, and protobufjs decodes each entry of
 * raw_input_contents as a view into it (no copy); tensorFromRaw keeps that view, and the
 * batcher copies it once, straight into the batch's ring slot.
 *
 * Shared memory: a tensor whose parameters name shared_memory_region (with
 * shared_memory_byte_size, and shared_memory_offset) is read from or written into that client
 * region through the request's RequestRegions, as over HTTP. As in Triton, such inputs take no
 * entry of raw_input_contents and such outputs get none in raw_output_contents: the raw entries
 * line up, in order, with the tensors that are not in shared memory.
 */
import { datatypeFromWire, type DatatypeInfo } from '../../dtypes.ts';
import { quote, serverError } from '../../errors.ts';
import { checkedElementCount, type InputHeader, type TensorData } from '../../inference/index.ts';
import type { RequestRegions } from '../../inference/index.ts';
import type { InferResponse } from '../../inference/index.ts';
import { regionRefOf, regionResponseParameters, type RegionRef } from '../../shm/index.ts';
import { bytesError, outputBytes, tensorFromRaw, tensorFromValues } from '../../inference/index.ts';
import { bytesToElement, type BytesForm } from '../../bytes-elements.ts';
import type { DecodedInference, DecodedOutput } from '../../inference/index.ts';
import {
  CONTENTS_FIELD,
  CONTENTS_FIELD_TYPE,
  parametersFromMessage,
  parametersToMessage,
  type InferInputTensorMessage,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  type ParameterMap,
  type TensorContentsMessage,
} from '../../protocol/index.ts';

/** An input's header; `region` when its bytes are in a client shared-memory region. */
interface GrpcInputHeader extends InputHeader {
  readonly region?: RegionRef;
  readonly dataBytes?: number;
}

type DecodedGrpcRequest = DecodedInference<GrpcInputHeader>;


/** The request's header, with features this server does not have refused by name. */
export function decodeGrpcInferRequest(msg: ModelInferRequestMessage): DecodedGrpcRequest {
  let next = 0;
  const inputs = msg.inputs.map((input): GrpcInputHeader => {
    const header = { name: input.name, datatype: input.datatype, shape: input.shape.map(Number) };
    const region = regionOf(input.parameters, `input '${quote(input.name)}'`);
    if (region && input.contents !== null && input.contents !== undefined && hasValues(input.contents)) {
      throw serverError('BAD_REQUEST', `input '${quote(input.name)}' must not set both contents and parameters.shared_memory_region`);
    }
    if (region) return { ...header, region };
    // The raw entry's size, for the request's memory budget (request-budget.ts).
    const raw = msg.raw_input_contents[next++];
    return raw === undefined ? header : { ...header, dataBytes: raw.length };
  });
  const outputs = msg.outputs.length === 0 ? null : msg.outputs.map((o): DecodedOutput => {
    const classCount = classCountOf(o.parameters);
    if (classCount !== undefined && o.parameters?.shared_memory_region !== undefined) {
      throw serverError('BAD_PARAMETER', "output can't set both 'shared_memory_region' and 'classification'");
    }
    const region = regionOf(o.parameters, `output '${quote(o.name)}'`);
    if (region) return { name: o.name, binary: false, region };
    return classCount !== undefined ? { name: o.name, binary: false, classCount } : { name: o.name, binary: false };
  });
  return { id: msg.id === '' ? undefined : msg.id, inputs, outputs, parameters: parametersFromMessage(msg.parameters) };
}

/** An output's `classification` count: an int64_param above 0, with Triton's messages otherwise. */
function classCountOf(parameters: ParameterMap | undefined): number | undefined {
  const p = parameters?.classification;
  if (p === undefined) return undefined;
  const choice = p.parameter_choice ?? (p.int64_param !== undefined ? 'int64_param' : undefined);
  if (choice !== 'int64_param') throw serverError('BAD_PARAMETER', "invalid value type for 'classification' parameter, expected int64_param");
  const count = Number(p.int64_param);
  // Triton's wording, though it refuses 0 as well.
  if (!(count > 0)) throw serverError('BAD_PARAMETER', "invalid value for 'classification' parameter, expected >= 0");
  // Triton keeps the count in 32 bits; more classes than that is every class anyway.
  return Math.min(count, 2 ** 32 - 1);
}

/** The region a tensor's parameters name (int64 values as numbers, however the loader gave them). */
function regionOf(parameters: ParameterMap | undefined, what: string): RegionRef | undefined {
  if (parameters?.shared_memory_region === undefined && parameters?.shared_memory_offset === undefined && parameters?.shared_memory_byte_size === undefined) {
    return undefined;
  }
  return regionRefOf(parametersFromMessage(parameters), what);
}

const hasValues = (contents: Partial<TensorContentsMessage>): boolean => Object.values(contents).some((v) => Array.isArray(v) && v.length > 0);

/**
 * Each input's data as the scheduler takes it: from its client shared-memory region (leased
 * through `regions`), from raw_input_contents (one entry per input not in shared memory, in
 * order) or from the input's typed contents. Call only after checkRequest passed.
 */
export function materializeGrpcInputs(
  msg: ModelInferRequestMessage,
  model: string,
  regions?: RequestRegions,
  decoded: DecodedGrpcRequest = decodeGrpcInferRequest(msg),
  form: BytesForm = 'text',
): TensorData[] {
  const rid = msg.id || '<id_unknown>';
  const raw = msg.raw_input_contents;
  const plain = msg.inputs.filter((_, i) => !decoded.inputs[i].region);
  if (raw.length > 0) {
    const typed = plain.find((i) => i.contents !== null && i.contents !== undefined);
    if (typed) {
      throw serverError('BAD_DATA', rid, `contents field must not be specified when using raw_input_contents for '${quote(typed.name)}' for model '${model}'`);
    }
    if (raw.length !== plain.length) {
      const which = plain.length === msg.inputs.length ? 'inputs of the request' : 'inputs not in shared memory';
      throw serverError('DATA_SIZE_MISMATCH', rid, `raw_input_contents has ${raw.length} entries for the ${plain.length} ${which} for model '${model}'; give one per input, in order`);
    }
  }
  let next = 0;
  return msg.inputs.map((input, i) => {
    const dt = datatypeFromWire(input.datatype)!;
    const count = checkedElementCount(input.name, input.shape.map(Number), rid, model);
    const region = decoded.inputs[i].region;
    if (region) {
      if (!regions) throw serverError('SHM_DISABLED');
      return regions.input(input.name, dt, count, region, form);
    }
    if (raw.length > 0) return tensorFromRaw(input.name, dt, count, raw[next++], rid, form);
    if (input.contents === null || input.contents === undefined) {
      throw serverError('BAD_DATA', rid, `unable to find data for input tensor '${quote(input.name)}' for model '${model}' in request`);
    }
    return fromContents(input, input.contents, dt, count, model, rid, form);
  });
}

function fromContents(input: InferInputTensorMessage, contents: Partial<TensorContentsMessage>, dt: DatatypeInfo, count: number, model: string, rid: string, form: BytesForm): TensorData {
  const field = CONTENTS_FIELD[dt.wire];
  // A value in any other field is a type mismatch, as Triton reports it.
  for (const [name, type] of Object.entries(CONTENTS_FIELD_TYPE) as [keyof TensorContentsMessage, string][]) {
    if (name !== field && (contents[name]?.length ?? 0) > 0) {
      throw serverError('BAD_DATA', rid, `unexpected explicit tensor data for input tensor '${quote(input.name)}' for model '${model}' of type '${type}', expected datatype '${dt.wire}'`);
    }
  }
  if (field === null) {
    // No field can hold FP16/BF16 values, so only an empty tensor can come typed (as in Triton).
    if (count === 0) return { kind: 'raw', bytes: new Uint8Array(0) };
    throw serverError('BAD_DATA', rid, `input '${quote(input.name)}' for model '${model}': ${dt.wire} has no typed contents field; send it in raw_input_contents`);
  }
  const values = contents[field] ?? [];
  switch (field) {
    case 'int64_contents':
    case 'uint64_contents':
      // Decimal strings from the loader; BigInt keeps every bit of them.
      return tensorFromValues(input.name, dt, count, (values as (string | number)[]).map((v) => BigInt(v)), rid);
    case 'bytes_contents': {
      const elements = values as Uint8Array[];
      if (elements.length !== count) return tensorFromValues(input.name, dt, count, elements, rid);
      // Each element's bytes exactly, or refused with its index (bytes-elements.ts).
      const strings: string[] = new Array(count);
      try {
        for (let i = 0; i < count; i++) strings[i] = bytesToElement(elements[i], i, form);
      } catch (err) {
        throw bytesError(err, input.name, rid);
      }
      return { kind: 'strings', strings };
    }
    default:
      return tensorFromValues(input.name, dt, count, values as ArrayLike<unknown>, rid);
  }
}

/**
 * The response message: the outputs in the scheduler's order, each as raw contents, except those
 * written into a client region (`regions`): they carry the region's parameters and no raw entry.
 */
export function encodeGrpcInferResponse(response: InferResponse, outputs?: readonly DecodedOutput[] | null, regions?: RequestRegions, form: BytesForm = 'text'): ModelInferResponseMessage {
  const raw: Uint8Array[] = [];
  return {
    model_name: response.modelName,
    model_version: String(response.modelVersion),
    id: response.id ?? '',
    parameters: {},
    outputs: response.outputs.map((o) => {
      const region = regions && outputs?.find((r) => r.name === o.name)?.region;
      const parameters = region ? parametersToMessage(regionResponseParameters(region, regions.bytesWritten(o.name))) : {};
      if (!region) raw.push(outputBytes(o, form));
      return { name: o.name, datatype: o.datatype.wire, shape: o.shape as number[], parameters, contents: null };
    }),
    raw_output_contents: raw,
  };
}
