/**
 * The messages between the primary and a worker: small descriptors only. Tensor bytes lie in
 * the pool's tensor ring (a SharedArrayBuffer), or, for a batch too large for its slot, in
 * ArrayBuffers that are moved (transferred), never copied by structured clone.
 */
import type { BatchTensor, DirectOutput, DirectWriteOutcome, FailedRead } from '../shm/index.ts';

/** What a worker is told when it starts (piscina workerData). One worker holds one instance. */
export interface WorkerSetup {
  readonly model: string;
  readonly version: number;
  /** Absolute path of the .onnx file. */
  readonly modelPath: string;
  readonly device: { readonly kind: 'cpu' } | { readonly kind: 'gpu'; readonly id: number };
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** The pool's tensor ring. */
  readonly ring: SharedArrayBuffer;
  /** Honour `crash` in run tasks (only when the server runs with NEREID_FAULT_INJECTION=1). */
  readonly faultInjection: boolean;
}

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
  /** Fault injection for tests: the worker dies instead of running the batch. */
  readonly crash?: boolean;
}

export type WorkerTask = { readonly op: 'load' } | RunTask;

export interface IoMetadata {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export interface RunTimings {
  /** Copying inputs out of the slot (and reading them from client regions) into runtime tensors. */
  readonly inputNs: number;
  /** The runtime's run call. */
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
  /** `instance` is the worker's thread id: which instance ran the batch. */
  | { readonly ok: true; readonly op: 'run'; readonly outputs: readonly BatchTensor[]; readonly timings: RunTimings; readonly instance: number; readonly direct: DirectResults }
  | { readonly ok: false; readonly message: string };
