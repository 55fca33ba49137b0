/**
 * The messages between the primary and a worker: small descriptors only. Tensor bytes lie in
 * the pool's tensor ring (a SharedArrayBuffer), or, for a batch too large for its slot, in
 * ArrayBuffers that are moved (transferred), never copied by structured clone.
 */
import type { BatchTensor, DirectOutput, DirectWriteOutcome, FailedRead } from '../shm/index.ts';
import type { BackendSetup, BatchRequests, HostInferRequest, HostInferResult, IoMetadata, StreamedResponse } from './backends/backend.ts';

/**
 * How a worker logs: the name of the BroadcastChannel on which it posts its log records (the
 * primary writes them through the server's logger, so they reach the same file and format), and
 * the verbose level at start, from which a backend sets its runtime's own logging.
 */
export interface WorkerLogSetup {
  readonly channel: string;
  readonly verbose: number;
}

/** One log line from a worker thread, as posted on its log channel. */
export interface WorkerLogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly model: string;
  readonly version: number;
  readonly instance: string;
  readonly thread: number;
}

/** What a worker is told when it starts (piscina workerData). One worker holds one instance. */
export interface WorkerSetup extends BackendSetup {
  /** The instance's name (`<group>_<k>`), for log lines. */
  readonly instance: string;
  /** Where its log lines go; null: nowhere (a worker started outside a server). */
  readonly log: WorkerLogSetup | null;
  /** The model config's `backend` name, for messages. */
  readonly backend: string;
  /** The URL of the module implementing it, as resolved by the primary (backendModuleUrl). */
  readonly backendModule: string;
  /** The pool's tensor ring. */
  readonly ring: SharedArrayBuffer;
  /**
   * The BroadcastChannel on which the worker asks the primary to run other models (a
   * JavaScript model's context.infer, see model-calls.ts); null: no such calls.
   */
  readonly calls?: string | null;
}

/** A call between models on the calls channel: the worker's request, or the primary's answer. */
export type ModelCallMessage =
  | { readonly id: number; readonly request: HostInferRequest }
  /** A decoupled model's response, ahead of its batch's reply (id unused: 0). */
  | { readonly id: number; readonly response: StreamedResponse }
  | { readonly id: number; readonly result: HostInferResult }
  | { readonly id: number; readonly error: string };

/** One batch to run. */
export interface RunTask {
  readonly op: 'run';
  /** The ring slot holding the inputs, or -1 when every input is moved or a string. */
  readonly slot: number;
  readonly inputs: readonly BatchTensor[];
  /** The outputs to fetch from the model. */
  readonly outputs: readonly string[];
  /** Rows of outputs to write straight into client regions (absent: none). */
  readonly direct?: readonly DirectOutput[];
  /** Outputs that `direct` delivers to every request that wants them: only their shape comes back. */
  readonly writtenOnly?: readonly string[];
  /** Each request's rows and parameters, for a backend that answers requests one by one (absent: one batch). */
  readonly requests?: BatchRequests;
}

/** `unload` releases the instance's runtime session before the thread is stopped. */
export type WorkerTask = { readonly op: 'load' } | { readonly op: 'unload' } | RunTask;

export interface RunTimings {
  /** Copying inputs out of the slot (and reading them from client regions) into host tensors. */
  readonly inputNs: number;
  /** The backend's execute call. */
  readonly inferNs: number;
  /** Writing outputs into the slot (and into client regions). */
  readonly outputNs: number;
}

/** What a run did besides its outputs: gathered parts it could not read, and each direct write. */
export interface DirectResults {
  readonly failedReads: readonly FailedRead[];
  /** One per entry of the task's `direct`, in its order. */
  readonly writes: readonly DirectWriteOutcome[];
}

export type WorkerReply =
  | { readonly ok: true; readonly op: 'load'; readonly inputs: readonly IoMetadata[]; readonly outputs: readonly IoMetadata[] }
  | { readonly ok: true; readonly op: 'unload' }
  /** `instance` is the worker's thread id: which instance ran the batch. */
  | {
    readonly ok: true; readonly op: 'run'; readonly outputs: readonly BatchTensor[]; readonly timings: RunTimings; readonly instance: number; readonly direct: DirectResults;
    /** Per request of `requests`, null or why it failed (absent: none failed); with every request failed, `outputs` is empty. */
    readonly errors?: readonly (string | null)[];
    /** A decoupled model: the responses each request sent on the calls channel, to wait for before settling. */
    readonly streamed?: readonly number[];
  }
  | { readonly ok: false; readonly message: string };
