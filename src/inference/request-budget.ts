/**
 * The budgets a request's inputs must fit before any of their data is converted, read from a
 * client region or queued (docs/limits.md): how many elements all its inputs hold, and how much
 * memory their decoded data may take. Both are judged from the header (shapes, datatypes, and
 * the byte sizes a header gives), so a request over them costs nothing but its header.
 */
import { datatypeFromWire, type DatatypeInfo } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import type { InputHeader } from './infer-request.ts';

export interface RequestLimits {
  /** Most elements over all of a request's inputs (--max-request-elements). */
  readonly maxElements: number;
  /** Most bytes a request's decoded inputs may take (--max-request-memory). */
  readonly maxMemoryBytes: number;
}

/**
 * What one BYTES element costs besides its bytes, in the accounting of --max-request-memory.
 * Measured (bench/crash-vectors.ts): 4M empty elements over gRPC took the server from 230 MB to
 * a peak of 1.44 GB, about 300 bytes an element: its string and array slot in the primary, the
 * structured clone to the worker and back, onnxruntime's std::string for the input and again for
 * the output, and the answer's strings.
 */
export const kBytesElementCostBytes = 256;

/** No limit: for callers that judge no budget (tests of other behaviour, tools). */
export const kNoLimits: RequestLimits = Object.freeze({ maxElements: Infinity, maxMemoryBytes: Infinity });

/** An input header with the byte size its header gives for its data, where it gives one. */
export interface BudgetedInput extends InputHeader {
  /** HTTP's parameters.binary_data_size. */
  readonly binarySize?: number;
  /** The size of the input's data where the header does not say it (a gRPC raw_input_contents entry). */
  readonly dataBytes?: number;
  /** A client shared-memory region's range. */
  readonly region?: { readonly byteSize: number };
}

/** The memory the decoded data of `count` elements of `dt` takes, `dataBytes` the data's size where known. */
export function decodedBytes(dt: DatatypeInfo, count: number, dataBytes: number | undefined): number {
  if (dt.wire !== 'BYTES') return count * dt.byteSize;
  return count * kBytesElementCostBytes + (dataBytes ?? 0);
}

/**
 * Throws OVER_LIMIT (413 / RESOURCE_EXHAUSTED) when the inputs hold more elements than
 * limits.maxElements or would take more than limits.maxMemoryBytes once decoded. Call after
 * checkRequest (shapes are then sane).
 */
export function checkBudget(inputs: readonly BudgetedInput[], limits: RequestLimits): void {
  let elements = 0;
  let bytes = 0;
  for (const input of inputs) {
    const dt = datatypeFromWire(input.datatype);
    if (!dt) continue;
    let count = 1;
    for (const d of input.shape) count *= d;
    elements += count;
    bytes += decodedBytes(dt, count, input.region?.byteSize ?? input.binarySize ?? input.dataBytes);
  }
  if (elements > limits.maxElements) {
    throw serverError('OVER_LIMIT', `the request's inputs hold ${elements} elements, more than the limit of ${limits.maxElements} (--max-request-elements)`);
  }
  if (bytes > limits.maxMemoryBytes) {
    throw serverError('OVER_LIMIT', `the request's inputs would take ${bytes} bytes once decoded (a BYTES element counts ${kBytesElementCostBytes} bytes besides its length), more than the limit of ${limits.maxMemoryBytes} (--max-request-memory)`);
  }
}
