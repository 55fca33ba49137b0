/**
 * The part of an inference request that every front-end shares, once its request is decoded:
 * check it against the model, lease any client shared-memory regions it names, convert its
 * tensor data, run it, and encode the answer while the leases are still held.
 */
import type { ModelConfig } from '../model-config/index.ts';
import { quote, serverError } from '../errors.ts';
import type { ClientRegions, RegionRef } from '../shm/index.ts';
import { checkRequest, checkRequestParameters, type InferRequest, type InferResponse, type RequestedOutput, type TensorData } from './infer-request.ts';
import type { CancelSignal } from './cancel-signal.ts';
import { RequestRegions } from './request-regions.ts';
import { checkSequenceParameters } from './sequence-parameters.ts';
import { checkClassification, classifyResponse } from './classification.ts';
import { checkBudget, kNoLimits, type BudgetedInput, type RequestLimits } from './request-budget.ts';
import type { BytesForm } from '../bytes-elements.ts';

/** A requested output; `region` when it is to be written into a client shared-memory region. */
export interface DecodedOutput extends RequestedOutput {
  readonly region?: RegionRef;
}

/**
 * A request as a front-end decoded it: headers only, data still in the wire message. `I` lets a
 * front-end keep more per input (where its bytes are).
 */
export interface DecodedInference<I extends BudgetedInput = BudgetedInput> {
  readonly id: string | undefined;
  readonly inputs: readonly I[];
  readonly outputs: readonly DecodedOutput[] | null;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** What enqueue takes besides the request: a signal that withdraws it while it waits. */
export interface EnqueueOptions {
  readonly signal?: CancelSignal;
}

/** runInference's options: the enqueue options, the budgets the request must fit, and a decoupled model's response stream. */
export interface InferenceOptions extends EnqueueOptions {
  /** The request budgets (request-budget.ts); none when absent. */
  readonly limits?: RequestLimits;
  /** Takes a decoupled model's responses; without it such a model is refused (what: the endpoint's name in the message). */
  readonly respond?: InferRequest['respond'];
  /** The endpoint, for the refusal of a decoupled model without `respond` ("ModelInfer RPC"). */
  readonly endpoint?: string;
}

/**
 * What a request runs on: one ready model version, its config and its scheduler's enqueue (the
 * repository hands these out; this folder does not know schedulers, only their entry point).
 */
export interface InferenceTarget {
  readonly config: ModelConfig;
  readonly version: number;
  readonly scheduler: { enqueue(request: InferRequest, options?: EnqueueOptions): Promise<InferResponse> };
  /** How the model's backend holds BYTES elements (bytes-elements.ts); 'text' when absent. */
  readonly bytesForm?: BytesForm;
}

/**
 * Runs `decoded` on `target`, for every front-end (and later ensemble steps and the cache). `materialize` converts the inputs' data (after the check, so a
 * refused request allocates nothing); `encode` builds the answer before the leases are released.
 */
export async function runInference<T>(
  clientRegions: ClientRegions,
  target: InferenceTarget,
  decoded: DecodedInference,
  materialize: (regions: RequestRegions) => TensorData[],
  encode: (response: InferResponse, regions: RequestRegions) => T,
  options: InferenceOptions = {},
): Promise<T> {
  if (target.config.decoupled && !options.respond) throw serverError('DECOUPLED_UNSUPPORTED', options.endpoint ?? 'This endpoint');
  // A decoupled model answers many times; client shared memory would be overwritten by each.
  if (target.config.decoupled && decoded.outputs?.some((o) => o.region)) {
    throw serverError('UNSUPPORTED', `model '${quote(target.config.name)}' is decoupled: its outputs cannot go into shared-memory regions`);
  }
  checkRequestParameters(decoded.parameters);
  checkRequest(target.config, decoded.id, decoded.inputs, decoded.outputs);
  checkSequenceParameters(target.config, decoded.parameters);
  checkClassification(target.config, decoded.outputs);
  checkBudget(decoded.inputs, options.limits ?? kNoLimits);
  // Leases on client shared-memory regions are held until the answer is encoded.
  const regions = new RequestRegions(clientRegions, decoded.id, target.config.name);
  try {
    const data = materialize(regions);
    const outputs = decoded.outputs?.map((o) => (o.region ? { name: o.name, binary: o.binary, sink: regions.output(o.name, o.region, target.bytesForm) } : o)) ?? null;
    const response = await target.scheduler.enqueue({
      id: decoded.id,
      inputs: decoded.inputs.map((input, i) => ({ name: input.name, datatype: input.datatype, shape: input.shape, data: data[i] })),
      outputs,
      parameters: decoded.parameters,
      ...(options.respond && target.config.decoupled ? { respond: options.respond } : {}),
    }, { signal: options.signal });
    regions.finish();
    return encode(classifyResponse(target.config, decoded.outputs, response), regions);
  } finally {
    regions.release();
  }
}
