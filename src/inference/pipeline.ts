/**
 * The part of an inference request that every front-end shares, once its request is decoded:
 * check it against the model, lease any client shared-memory regions it names, convert its
 * tensor data, run it, and encode the answer while the leases are still held.
 */
import type { ModelConfig } from '../model-config/index.ts';
import type { ClientRegions, RegionRef } from '../shm/index.ts';
import { checkRequest, checkRequestParameters, type InferRequest, type InferResponse, type InputHeader, type RequestedOutput, type TensorData } from './infer-request.ts';
import type { CancelSignal } from './cancel-signal.ts';
import { RequestRegions } from './request-regions.ts';

/** A requested output; `region` when it is to be written into a client shared-memory region. */
export interface DecodedOutput extends RequestedOutput {
  readonly region?: RegionRef;
}

/**
 * A request as a front-end decoded it: headers only, data still in the wire message. `I` lets a
 * front-end keep more per input (where its bytes are).
 */
export interface DecodedInference<I extends InputHeader = InputHeader> {
  readonly id: string | undefined;
  readonly inputs: readonly I[];
  readonly outputs: readonly DecodedOutput[] | null;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** What enqueue takes besides the request: a signal that withdraws it while it waits. */
export interface EnqueueOptions {
  readonly signal?: CancelSignal;
}

/**
 * What a request runs on: one ready model version, its config and its scheduler's enqueue (the
 * repository hands these out; this folder does not know schedulers, only their entry point).
 */
export interface InferenceTarget {
  readonly config: ModelConfig;
  readonly version: number;
  readonly scheduler: { enqueue(request: InferRequest, options?: EnqueueOptions): Promise<InferResponse> };
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
  options: EnqueueOptions = {},
): Promise<T> {
  checkRequestParameters(decoded.parameters);
  checkRequest(target.config, decoded.id, decoded.inputs, decoded.outputs);
  // Leases on client shared-memory regions are held until the answer is encoded.
  const regions = new RequestRegions(clientRegions, decoded.id, target.config.name);
  try {
    const data = materialize(regions);
    const outputs = decoded.outputs?.map((o) => (o.region ? { name: o.name, binary: o.binary, sink: regions.output(o.name, o.region) } : o)) ?? null;
    const response = await target.scheduler.enqueue({
      id: decoded.id,
      inputs: decoded.inputs.map((input, i) => ({ name: input.name, datatype: input.datatype, shape: input.shape, data: data[i] })),
      outputs,
      parameters: decoded.parameters,
    }, options);
    regions.finish();
    return encode(response, regions);
  } finally {
    regions.release();
  }
}
