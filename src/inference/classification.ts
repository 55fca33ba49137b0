/**
 * Triton's classification extension: an output requested with a class count N comes back as
 * BYTES strings `value:index[:label]` for the N highest values, instead of the tensor itself.
 * A model with a batch dimension is ranked row by row (shape [batch, min(N, row size)]); one
 * without ranks its whole output (shape [min(N, size)]). Values print as C's `%f` for floats and
 * as integers otherwise, which is what Triton's std::to_string gives; labels come from the
 * output's `label_filename`, read at load (a missing or empty line means no label).
 */
import { datatypeFromWire } from '../dtypes.ts';
import { serverError } from '../errors.ts';
import type { ModelConfig } from '../model-config/index.ts';
import type { InferOutput, InferResponse, RequestedOutput } from './infer-request.ts';

const BYTES = datatypeFromWire('BYTES')!;
/** The element types Triton ranks; any other is refused with its message. */
const kRanked = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);
/** Triton's bound on the elements ranked at once, against pathological CPU and memory use. */
const kMaxClassificationElements = 1_000_000;

/** Refuses, before anything runs, a classification of an output whose type Triton cannot rank. */
export function checkClassification(config: ModelConfig, outputs: readonly RequestedOutput[] | null): void {
  for (const o of outputs ?? []) {
    if (!o.classCount) continue;
    const spec = config.outputs.find((t) => t.name === o.name);
    if (spec && !kRanked.has(spec.datatype.wire)) {
      throw serverError('BAD_PARAMETER', `class result not available for output due to unsupported type '${spec.datatype.wire}'`);
    }
  }
}

/** `response` with each output the request asked to classify replaced by its top classes. */
export function classifyResponse(config: ModelConfig, requested: readonly RequestedOutput[] | null, response: InferResponse): InferResponse {
  if (requested === null || !requested.some((o) => o.classCount)) return response;
  const counts = new Map(requested.filter((o) => o.classCount).map((o) => [o.name, o.classCount!]));
  const outputs = response.outputs.map((output) => {
    const count = counts.get(output.name);
    if (count === undefined) return output;
    const labels = config.outputs.find((t) => t.name === output.name)?.labels ?? null;
    return classify(output, count, config.maxBatchSize > 0, labels);
  });
  return { ...response, outputs };
}

/** One output as its top `count` classes per row (per batch entry when `batched`). */
export function classify(output: InferOutput, count: number, batched: boolean, labels: readonly string[] | null): InferOutput {
  const dt = output.datatype;
  if (dt.array === null || Array.isArray(output.data) || !kRanked.has(dt.wire)) {
    throw serverError('BAD_PARAMETER', `class result not available for output due to unsupported type '${dt.wire}'`);
  }
  const shape = output.shape;
  const byRow = batched && shape.length > 0;
  const rows = byRow ? shape[0] : 1;
  const rowSize = shape.slice(byRow ? 1 : 0).reduce((n, d) => n * d, 1);
  if (rowSize > kMaxClassificationElements) throw serverError('BAD_PARAMETER', 'classification output tensor too large');
  const values = new dt.array(output.data as ArrayBuffer);
  const isFloat = dt.wire === 'FP32' || dt.wire === 'FP64';
  const kept = Math.min(count, rowSize);
  const strings: string[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * rowSize;
    // Indices by value, highest first; equal values keep index order (Triton's sort leaves ties unordered).
    const order = Array.from({ length: rowSize }, (_, i) => i);
    const at = (i: number) => values[base + i] as number | bigint;
    order.sort((a, b) => {
      const x = at(a);
      const y = at(b);
      return x > y ? -1 : x < y ? 1 : a - b;
    });
    for (let k = 0; k < kept; k++) {
      const index = order[k];
      const label = labels?.[index];
      const text = `${isFloat ? formatFixed(at(index) as number) : String(at(index))}:${index}`;
      strings.push(label ? `${text}:${label}` : text);
    }
  }
  return { name: output.name, datatype: BYTES, shape: byRow ? [rows, kept] : [kept], data: strings };
}

/**
 * A number as C's `%f` prints it: six decimals, `inf`, `-inf`, `nan`. Both round the double's
 * exact decimal value; they differ only on an exact tie at the seventh decimal (a value such as
 * 2^-7 = 0.0078125), which glibc rounds to even and toFixed away from zero.
 */
export function formatFixed(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  // toFixed switches to exponent notation from 1e21; there every double is an integer.
  if (Math.abs(value) >= 1e21) return `${BigInt(value)}.000000`;
  return Object.is(value, -0) ? '-0.000000' : value.toFixed(6);
}
