/**
 * Calls between models (business logic scripting), the primary's side: a JavaScript model's
 * context.infer arrives here from its instance (instance/piscina-instance.ts relays it) and runs
 * as any request does: the registry finds the ready version, runInference checks it and puts it
 * through that version's scheduler (so it batches with the model's other traffic), and the
 * answer goes back as tensors. Errors are the ones a client would get, with Triton's texts.
 */
import { bytesToElement, elementBytes, InexactBytesElement, type BytesForm } from '../bytes-elements.ts';
import { datatypeFromWire, elementCount, elementTypeOf, typedArrayOver, type TypedArray } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import { runInference, tensorFromRaw, type DecodedInference, type InferResponse, type TensorData } from '../inference/index.ts';
import type { ModelRegistry } from '../repository/index.ts';
import { ClientRegions } from '../shm/index.ts';
import type { ModelCaller } from '../instance/index.ts';
import type { CallTensor, HostInferRequest, HostInferResult } from '../workers/index.ts';

/** A call has no request id; messages say so as Triton's do. */
const kNoId = '<id_unknown>';

/** The caller the server hands to JavaScript models' instances: runs requests on `registry`'s models. */
export function modelCaller(registry: ModelRegistry): ModelCaller {
  // A call never names a client shared-memory region: its tensors come in the message.
  const noRegions = new ClientRegions({ allowed: false, maxTotalBytes: 0 });
  return async (request: HostInferRequest): Promise<HostInferResult> => {
    const target = registry.ready(request.model, request.version === '' ? undefined : request.version);
    const decoded: DecodedInference = {
      id: undefined,
      inputs: request.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      outputs: request.outputs?.map((name) => ({ name, binary: false })) ?? null,
      parameters: request.parameters,
    };
    return runInference(noRegions, target, decoded, () => request.inputs.map((input) => tensorData(input, target.bytesForm)),
      (response) => resultOf(response, target.bytesForm), { endpoint: 'context.infer' });
  };
}

/**
 * A call's input as tensor data (checkRequest has matched its datatype and shape to the model).
 * BYTES elements are held in the target's form: every element for a backend that carries raw
 * bytes, and for the others only those it carries exactly (the rest are refused, not changed).
 */
function tensorData(input: CallTensor, form: BytesForm): TensorData {
  const dt = datatypeFromWire(input.datatype)!;
  const count = elementCount(input.shape);
  if (dt.wire === 'BYTES') {
    const elements = input.data as readonly Uint8Array[];
    if (elements.length !== count) {
      throw serverError('DATA_SIZE_MISMATCH', kNoId, `input '${input.name}' has ${elements.length} elements, but its shape [${input.shape}] needs ${count}`);
    }
    const strings = elements.map((b, k) => {
      try {
        return bytesToElement(b, k, form);
      } catch (err) {
        if (err instanceof InexactBytesElement) throw serverError('BYTES_NOT_EXACT', kNoId, input.name, err.index, err.why);
        throw err;
      }
    });
    return { kind: 'strings', strings };
  }
  const data = input.data as TypedArray;
  return tensorFromRaw(input.name, dt, count, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), kNoId);
}

/** An answer as the call's result: numeric outputs as typed arrays, BYTES as their bytes. */
function resultOf(response: InferResponse, form: BytesForm): HostInferResult {
  return {
    outputs: response.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype.wire,
      shape: [...o.shape],
      data: Array.isArray(o.data)
        ? o.data.map((s) => elementBytes(s, form))
        : typedArrayOver(elementTypeOf(o.datatype), o.data, o.data.byteLength),
    })),
  };
}
