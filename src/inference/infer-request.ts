/**
 * An inference request as the scheduler sees it, and its checks against the model's config.
 * Front-ends decode a request's header first, check it here, and only then convert tensor data,
 * so nothing is allocated for a request that is about to be refused.
 */
import { datatypeFromWire, type DatatypeInfo } from '../dtypes.ts';
import { quote, serverError } from '../errors.ts';
import type { DirectWriteOutcome, FileRange } from '../shm/index.ts';
import type { ModelConfig, TensorConfig } from '../model-config/index.ts';

/**
 * Numeric contents as little-endian bytes, exactly the tensor's byte size. For raw contents
 * (HTTP's binary extension, gRPC's raw_input_contents) `bytes` is a view into the request body
 * or message, not a copy: the batcher's write into the ring slot is the one copy. For JSON or
 * typed gRPC values it is the one buffer tensorFromValues converted them into.
 */
export interface RawTensorData {
  readonly kind: 'raw';
  readonly bytes: Uint8Array;
}

/** BYTES contents: one string per element, in row-major order. */
export interface StringTensorData {
  readonly kind: 'strings';
  readonly strings: readonly string[];
}

/**
 * Numeric contents that lie in a client's shared-memory region: the region's descriptor and
 * position (`file`, exactly the tensor's byte size). The batcher either reads them once, straight
 * into the batch's slot, or hands `file` to the worker, which reads them straight into the
 * runtime's buffer; the request's lease keeps the descriptor open until the request settles.
 */
export interface RegionTensorData {
  readonly kind: 'region';
  readonly file: FileRange;
  /**
   * Records that the bytes could not be read (an errno code or kShrunk), failing this request
   * alone once it settles; the other requests of its batch go on. Must not throw.
   */
  failed(reason: string): void;
}

/** Tensor contents, as every front-end hands them to the scheduler: no conversion is left. */
export type TensorData = RawTensorData | StringTensorData | RegionTensorData;

/** The byte size of numeric contents (what the tensor takes in a slot). */
export function numericByteLength(data: RawTensorData | RegionTensorData): number {
  return data.kind === 'raw' ? data.bytes.byteLength : data.file.byteLength;
}

export interface InputHeader {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface InferInput extends InputHeader {
  readonly data: TensorData;
}

/**
 * Where a requested output goes instead of the response (a client's shared-memory region). The
 * scheduler calls `accept` once with the request's part of the output: numeric bytes as a view of
 * the batch's slot, valid during the call only (so the sink writes them out at once: the one copy),
 * or strings for BYTES. It must not throw: a sink keeps its failure for its owner to report once
 * the request settles, so that one request's region never fails the other requests of its batch.
 */
export interface TensorSink {
  accept(data: Uint8Array | readonly string[]): void;
  /** Set when the sink is a client's shared-memory object, which a worker may write itself. */
  readonly direct?: DirectSink;
}

/**
 * A client's shared-memory range a worker may write a numeric output into itself (`file`, at most
 * `file.byteLength` bytes), instead of the batcher calling `accept`. `settle` then reports what the
 * worker did. Must not throw, as `accept`.
 */
export interface DirectSink {
  readonly file: FileRange;
  settle(outcome: DirectWriteOutcome): void;
}

export interface RequestedOutput {
  readonly name: string;
  /** Answer this output in the binary tensor extension (HTTP). */
  readonly binary: boolean;
  /** Hand this output to the sink; its InferOutput then carries no bytes. */
  readonly sink?: TensorSink;
  /** Classification: answer the top `classCount` classes as BYTES (classification.ts); 0 or unset: the tensor. */
  readonly classCount?: number;
}

/** One response of a decoupled model to a request: outputs, an error, or neither (only the final flag). */
export interface StreamedInferResponse {
  readonly outputs: readonly InferOutput[] | null;
  readonly error: string | null;
  readonly final: boolean;
}

export interface InferRequest {
  readonly id: string | undefined;
  readonly inputs: readonly InferInput[];
  /** The outputs asked for, or null for all of them. */
  readonly outputs: readonly RequestedOutput[] | null;
  readonly parameters: Readonly<Record<string, unknown>>;
  /**
   * For a decoupled model: takes each response as it comes; the request's promise settles (with
   * no outputs) after its final one. Required for such a model, absent for the others.
   */
  readonly respond?: (response: StreamedInferResponse) => void;
}

export interface InferOutput {
  readonly name: string;
  readonly datatype: DatatypeInfo;
  readonly shape: readonly number[];
  /** The request's own bytes (or strings) of this output; empty when it went to a sink. */
  readonly data: ArrayBuffer | string[];
}

/** A request's answer: its outputs, in the model's order. */
export interface InferResponse {
  readonly id: string | undefined;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly outputs: readonly InferOutput[];
}

/** Largest element count one tensor may claim, a guard against absurd shapes (2^31 - 1). */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** The element count of a shape, or an error naming the input and model when a dim is not a sane integer. */
export function checkedElementCount(name: string, shape: readonly unknown[], requestId: string, model: string): number {
  // Only numbers are printed: a dim of another kind is named by its type, never echoed.
  const shown = () => `[${shape.map((d) => (typeof d === 'number' ? String(d) : typeof d)).join(',')}]`;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw serverError('WRONG_SHAPE', requestId, name, model, 'non-negative integer dims', shown(), 'Each dim must be a non-negative integer.');
    }
    n *= d;
    if (n > MAX_TENSOR_ELEMENTS) {
      throw serverError('WRONG_SHAPE', requestId, name, model, `at most ${MAX_TENSOR_ELEMENTS} elements`, shown(), 'The shape is too large.');
    }
  }
  return n;
}

const fmtDims = (dims: readonly number[]): string => `[${dims.join(',')}]`;

/**
 * Request parameters whose key starts with `triton_` are Triton's own (e.g.
 * triton_enable_empty_final_response): a client may not set them, over HTTP or gRPC, and the
 * answer is Triton's message (which names no key, so nothing of the request is echoed).
 */
export function checkRequestParameters(parameters: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(parameters)) {
    if (key.startsWith('triton_')) throw serverError('RESERVED_PARAMETER');
  }
}

/**
 * Checks request headers against the model: every input known, given once, of the right type
 * and shape; every required input present; one batch size within max_batch_size; outputs known
 * and asked for once.
 */
export function checkRequest(
  config: ModelConfig,
  requestId: string | undefined,
  inputs: readonly InputHeader[],
  outputs: readonly { name: string }[] | null,
): void {
  const rid = requestId || '<id_unknown>';
  const byName = new Map<string, TensorConfig>(config.inputs.map((t) => [t.name, t]));
  const seen = new Set<string>();
  let batch = -1;
  for (const input of inputs) {
    const spec = byName.get(input.name);
    if (!spec) throw serverError('UNKNOWN_INPUT', input.name, config.name);
    if (seen.has(input.name)) throw serverError('DUPLICATE_INPUT', input.name, config.name);
    seen.add(input.name);
    if (!datatypeFromWire(input.datatype)) {
      throw serverError('BAD_DATA', rid, `input '${quote(input.name)}' has unknown datatype '${quote(input.datatype)}'`);
    }
    if (input.datatype !== spec.datatype.wire) {
      throw serverError('WRONG_DATATYPE', rid, input.name, input.datatype, config.name, spec.datatype.wire);
    }
    checkedElementCount(input.name, input.shape, rid, config.name);
    const expected = config.maxBatchSize > 0 ? [-1, ...spec.dims] : spec.dims;
    const shapeOk = input.shape.length === expected.length && expected.every((d, i) => d === -1 || d === input.shape[i]);
    if (!shapeOk) {
      throw serverError('WRONG_SHAPE', rid, input.name, config.name, fmtDims(expected), fmtDims(input.shape), '');
    }
    if (config.maxBatchSize > 0) {
      const b = input.shape[0];
      if (b < 1) throw serverError('BATCH_TOO_SMALL', rid, config.name);
      if (b > config.maxBatchSize) throw serverError('BATCH_TOO_LARGE', rid, config.maxBatchSize, config.name);
      if (batch !== -1 && b !== batch) {
        throw serverError('WRONG_SHAPE', rid, input.name, config.name, `batch size ${batch} as the other inputs`, fmtDims(input.shape), '');
      }
      batch = b;
    }
  }
  const missing = config.inputs.filter((t) => !t.optional && !seen.has(t.name)).map((t) => t.name);
  if (missing.length > 0) {
    const required = config.inputs.filter((t) => !t.optional).length;
    throw serverError('MISSING_INPUT', required, inputs.length, config.name,
      `[${[...seen].map((n) => `'${quote(n)}'`).join(',')}]`, `[${missing.map((n) => `'${quote(n)}'`).join(',')}]`);
  }
  if (outputs) {
    const known = new Set(config.outputs.map((t) => t.name));
    const requested = new Set<string>();
    for (const o of outputs) {
      if (!known.has(o.name)) throw serverError('UNKNOWN_OUTPUT', o.name, config.name);
      // Twice the same fetch would hand the worker one buffer to transfer twice: it fails as a 500.
      if (requested.has(o.name)) throw serverError('DUPLICATE_OUTPUT', o.name, config.name);
      requested.add(o.name);
    }
  }
}
