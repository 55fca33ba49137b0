/**
 * A model instance as the scheduler sees it: one addressable runner of batches (Triton's model
 * instance), named as Triton names it, placed on one device, with its own tensor ring. Piscina
 * implements it today (piscina-instance.ts); a component test implements it with a fake.
 */
import type { BatchTensor, DirectOutput, TensorRing } from '../shm/index.ts';
import type { BatchRequests, DirectResults, HostInferRequest, HostInferResult, RunTimings, StreamedResponse } from '../workers/index.ts';

/** What a run may carry besides its inputs and output names. */
export interface RunExtras {
  /** Output rows the worker writes straight into client regions. */
  readonly direct?: readonly DirectOutput[];
  /** Outputs `direct` delivers to every request that wants them (nothing comes back). */
  readonly writtenOnly?: readonly string[];
  /** Each request's rows and parameters, for a backend that answers requests one by one. */
  readonly requests?: BatchRequests;
  /** A decoupled model's responses, as they come (run settles only after the last). */
  readonly onResponse?: (response: StreamedResponse) => void;
}

/** One batch for one instance: inputs in the instance's ring slot `slot` (or -1: none there). */
export interface InstanceBatch extends RunExtras {
  readonly slot: number;
  readonly inputs: readonly BatchTensor[];
  /** The outputs to fetch from the model. */
  readonly outputs: readonly string[];
}

export interface RunResult {
  readonly outputs: readonly BatchTensor[];
  readonly timings: RunTimings;
  /** The thread id of the worker that ran the batch (the same for every run of one instance, until it dies). */
  readonly worker: number;
  /** The worker's reads and writes of client regions. */
  readonly direct: DirectResults;
  /** Per request, null or why the backend failed it (absent: none failed; all failed: no outputs). */
  readonly errors?: readonly (string | null)[];
  /** A decoupled model: the responses each request got through onResponse (there are no outputs). */
  readonly streamed?: readonly number[];
}

export interface ModelInstance {
  /** Triton's instance name: '<group name>_<k>', k counting the group's instances over its devices. */
  readonly name: string;
  /** The instance group's name. */
  readonly group: string;
  /** 'CPU' or 'GPU <id>'. */
  readonly device: string;
  /** True while a batch runs; a scheduler sends a batch only to an instance that is not busy. */
  readonly busy: boolean;
  /**
   * The instance's own tensor ring: two slots, so that the next batch can be filled while one
   * runs. The caller acquires a slot, fills and publishes it, runs, then releases it.
   */
  readonly ring: TensorRing;
  /**
   * Runs one batch on exactly this instance. Moved input buffers are unusable here after.
   * Rejects when the backend reports an error or the worker dies; either way it settles only
   * once the worker no longer touches the slot or any client region the batch names.
   */
  run(batch: InstanceBatch): Promise<RunResult>;
  /** Waits for a running batch to finish, then stops the instance. */
  close(): Promise<void>;
}

/**
 * Runs a request of one model instance on another model of the server (a JavaScript model's
 * context.infer); the server provides it, since only it knows the other models.
 */
export type ModelCaller = (request: HostInferRequest) => Promise<HostInferResult>;
