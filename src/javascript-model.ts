/**
 * The contract of a model written in JavaScript (`backend: "javascript"` in config.pbtxt, the
 * code in `<model>/<version>/model.js`): types only, for model authors, published as
 * `nereid/javascript-model`. docs/javascript-models.md describes it with examples.
 *
 * A leaf: it imports nothing. The worker side that runs such a model is
 * src/workers/backends/javascript.ts.
 */

/** Triton's datatype names, as requests and responses carry them. */
export type Datatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BF16' | 'BYTES';

/**
 * The data of a tensor, by datatype: BOOL and UINT8 Uint8Array (a BOOL element is 0 or 1), FP16
 * and BF16 Uint16Array (the 16-bit patterns), INT64 BigInt64Array, UINT64 BigUint64Array, and
 * so on; BYTES an array with one Uint8Array (a Buffer) per element. In a response a BYTES
 * element may also be a string, which stands for its UTF-8 bytes.
 */
export type TensorData =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array
  | readonly (Uint8Array | string)[];

/** A tensor: row-major `data` of `shape`. */
export interface Tensor {
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Named tensors. */
export type Tensors = Readonly<Record<string, Tensor>>;

/** One request of a batch `execute` receives. */
export interface ModelRequest {
  /**
   * The request's inputs, by name. Numeric data are views over memory the server reuses for
   * the next batch: copy what must outlive the `execute` call. For a model with batching
   * (max_batch_size > 0) the first dim of each shape is the request's own batch size.
   */
  readonly inputs: Tensors;
  /** The request's parameters, as the client sent them. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /**
   * A decoupled model's (model_transaction_policy { decoupled: true }) way to answer: sends one
   * response now (`null` sends none, only the flag), `final: true` with the last. Zero, one or
   * many per request, until `execute` settles: a request whose final was not sent is then
   * completed (with an error if execute threw). Absent for a model that is not decoupled.
   */
  readonly send?: (response: ModelResponse | null, options?: { readonly final?: boolean }) => void;
}

/**
 * The answer to one request: its outputs (every output the config lists that the batch asked
 * for; with batching, each with the request's batch size as first dim), or an error, which fails
 * that request alone with a 500-class error naming the model.
 */
export type ModelResponse = { readonly outputs: Tensors } | { readonly error: string | Error };

/** `context.infer`'s options. */
export interface InferOptions {
  /** The version to run; absent: the model's newest ready version. */
  readonly version?: number | string;
  /** The outputs wanted; absent: all of them. */
  readonly outputs?: readonly string[];
  /** Parameters for the request. */
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
}

/** What `initialize` receives: the instance's setting, and the door to other models. */
export interface ModelContext {
  /** The model's config, as its config endpoint reports it (Triton's JSON form, snake_case). */
  readonly config: Readonly<Record<string, unknown>>;
  /** The model's directory (the one holding config.pbtxt). */
  readonly modelDirectory: string;
  readonly modelName: string;
  readonly modelVersion: number;
  /** The instance's name, in Triton's form (`<group>_<k>`). */
  readonly instanceName: string;
  /**
   * Runs another model of the server (business logic scripting): through that model's scheduler,
   * so it batches with the rest of its traffic. Resolves to its outputs; rejects with the
   * server's error (an Error whose message is Triton's text).
   */
  infer(modelName: string, inputs: Tensors, options?: InferOptions): Promise<Tensors>;
}

/**
 * The default export of model.js: a class, one object per model instance. `execute` runs one
 * batch at a time per instance; it is called again only after the previous call settled.
 */
export interface JavaScriptModel {
  initialize?(context: ModelContext): void | Promise<void>;
  execute(requests: readonly ModelRequest[]): readonly ModelResponse[] | Promise<readonly ModelResponse[]>;
  finalize?(): void | Promise<void>;
}

/** The class model.js exports by default. */
export type JavaScriptModelClass = new () => JavaScriptModel;
