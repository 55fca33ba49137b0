/**
 * What a worker asks of the runtime that runs its model: the Backend interface. Batch execution
 * (execute-batch.ts) and the worker entry see only this, so a runtime's own types (onnxruntime's
 * Tensor and InferenceSession) stay inside the one module that implements it.
 *
 * A backend module is found by name in the backend registry (backend-registry.ts) and imported by
 * the worker thread from its URL; it exports `createBackend()`. One Backend holds one model
 * instance and lives on the thread that created it.
 */
import type { TypedArray } from '../../dtypes.ts';

/** Where and how to load one instance: the part of the worker's setup a backend needs. */
export interface BackendSetup {
  /** The model's name and version, for messages. */
  readonly model: string;
  readonly version: number;
  /** Absolute path of the version's model file. */
  readonly modelPath: string;
  readonly device: { readonly kind: 'cpu' } | { readonly kind: 'gpu'; readonly id: number };
  /** Threads inside one operator, and across operators (1: run operators in sequence). */
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** The server's verbose level at start (--log-verbose), for the runtime's own log level; absent: 0. */
  readonly logVerbose?: number;
  /** The instance's name (`<group>_<k>`). */
  readonly instance?: string;
  /** The model's config in Triton's JSON form (its config endpoint's answer), for a backend that reads it. */
  readonly config?: Readonly<Record<string, unknown>>;
  /**
   * How this server's BYTES strings hold their bytes (see StringHostTensor): 'binary' (one
   * character per byte) or 'text' (their UTF-8 decoding); absent: as the backend's rawBytes says.
   */
  readonly bytesForm?: 'text' | 'binary';
}

/** A tensor the model declares: its element type ('float32', or 'non-tensor') and shape. */
export interface IoMetadata {
  readonly name: string;
  readonly type: string;
  /** Fixed dims as numbers; dynamic ones as a name or -1. */
  readonly shape: readonly (number | string)[];
}

/** The model's declared inputs and outputs, which a load reports. */
export interface BackendMetadata {
  readonly inputs: readonly IoMetadata[];
  readonly outputs: readonly IoMetadata[];
}

/**
 * A numeric tensor on this thread: `type` is an element type name ('float32', 'int64', 'bool',
 * see dtypes.ts) and `data` a typed array of it. Inputs are views over worker-local buffers that
 * the worker reuses for the next batch, so a backend must not keep them past `execute`.
 */
export interface NumericHostTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

/**
 * A BYTES tensor: one string per element. For a backend registered without `rawBytes` (see
 * backend-registry.ts) each is UTF-8 text without NUL (other elements never reach it); for one
 * registered with `rawBytes: true`, each holds one character per byte (Buffer 'latin1'), and
 * its BYTES outputs are read the same way.
 */
export interface StringHostTensor {
  readonly type: 'string';
  readonly dims: readonly number[];
  readonly data: readonly string[];
}

export type HostTensor = NumericHostTensor | StringHostTensor;

export const isStringHostTensor = (t: HostTensor): t is StringHostTensor => t.type === 'string';

/** Named tensors, in the order the batch lists them. */
export type HostTensors = Readonly<Record<string, HostTensor>>;

/** Each request of a batch, in batch order, for a backend that answers requests one by one. */
export interface BatchRequests {
  /** Request r's rows of every batched input (its batch size; 1 for a model without batching). */
  readonly rows: readonly number[];
  /** Request r's parameters. */
  readonly parameters: readonly (Readonly<Record<string, unknown>> | undefined)[];
}

/**
 * The outcome of executeRequests: the outputs of the requests that succeeded, their rows back to
 * back in batch order (a failed request has no rows), and per request null or its error message.
 */
export interface RequestsOutcome {
  readonly outputs: HostTensors;
  readonly errors: readonly (string | null)[];
  /** A decoupled model: how many responses each request sent through BackendHost.respond (outputs is then empty). */
  readonly streamed?: readonly number[];
}

/**
 * A tensor of a call between models: numeric data as a typed array of its element type, BYTES
 * as one Uint8Array per element (exact bytes: the primary converts them for the target model).
 */
export interface CallTensor {
  readonly name: string;
  /** The wire datatype ('FP32', 'BYTES'). */
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: TypedArray | readonly Uint8Array[];
}

/** A request a model instance makes of another model through the primary (BLS). */
export interface HostInferRequest {
  readonly model: string;
  /** '' for the newest ready version. */
  readonly version: string;
  readonly inputs: readonly CallTensor[];
  /** The outputs wanted; null for all. */
  readonly outputs: readonly string[] | null;
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
}

/** Another model's answer to a HostInferRequest. */
export interface HostInferResult {
  readonly outputs: readonly CallTensor[];
}

/**
 * One response of a decoupled model to request `request` of the running batch: its outputs
 * (strings in the host form, see StringHostTensor), or an error, or neither (only the flag).
 */
export interface StreamedResponse {
  readonly request: number;
  readonly outputs: readonly { readonly name: string; readonly datatype: string; readonly shape: readonly number[]; readonly data: HostTensor['data'] }[] | null;
  readonly error: string | null;
  readonly final: boolean;
}

/** What the worker offers a backend besides its setup: calls to other models of the server. */
export interface BackendHost {
  /** Runs a request on another model through its scheduler on the primary; rejects with the server's message. */
  infer(request: HostInferRequest): Promise<HostInferResult>;
  /** Sends a decoupled model's response to the primary now, ahead of the batch's end. */
  respond(response: StreamedResponse): void;
}

/**
 * One model instance in a runtime. `load` is called once, before any `execute`; `execute` is never
 * called again before the previous one settles (a worker runs one batch at a time).
 */
export interface Backend {
  /** Loads the model; resolves to its declared io, or rejects with a message a user can act on. */
  load(setup: BackendSetup): Promise<BackendMetadata>;
  /**
   * Runs one batch: every input of the model, by name, and the names of the outputs to compute.
   * Resolves to exactly those outputs. Their data may be fresh memory the caller may keep.
   */
  execute(inputs: HostTensors, outputs: readonly string[]): Promise<HostTensors>;
  /**
   * Where present, the worker runs a batch through this instead of `execute`, with each
   * request's rows and parameters, and fails only the requests the outcome names.
   */
  executeRequests?(inputs: HostTensors, outputs: readonly string[], requests: BatchRequests): Promise<RequestsOutcome>;
  /** Frees what `load` took; the backend runs nothing after. */
  unload(): Promise<void>;
}

/** What a backend module exports. */
export interface BackendModule {
  /** `host`: the worker's calls to other models (absent where a backend is made outside a server). */
  createBackend(host?: BackendHost): Backend;
}
