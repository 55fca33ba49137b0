/**
 * Splits a batch's outputs back into one result per request: request r gets its rows of each
 * output, copied once out of the slot (or the moved buffer) into its own buffer, because the
 * slot is reused as soon as the split is done.
 */
import { elementCount } from '../dtypes.ts';
import { modelOutputs } from './batch-assembly.ts';
import { isMovedTensor, isSlotTensor, isStringTensor, isWrittenTensor, type BatchTensor, type DirectOutput } from '../shm/index.ts';
import type { ModelConfig } from '../model-config/index.ts';
import type { DirectSink, InferOutput, TensorSink } from '../inference/index.ts';

const NO_BYTES = new ArrayBuffer(0);

/**
 * `rows[r]` is request r's number of batch elements (ignored for a model without batching,
 * whose batch is always one request). `wanted[r]` names the outputs request r asked for;
 * `sinks[r]`, when given, the outputs it wants handed to a sink (written straight out of the
 * slot) rather than copied into its result; `delivered[r]`, the outputs a worker already wrote
 * into its sinks (see planDirectOutputs), which are neither handed over nor copied.
 */
export function splitBatch(
  config: ModelConfig,
  outputs: readonly BatchTensor[],
  slot: Uint8Array | null,
  rows: readonly number[],
  wanted: readonly (ReadonlySet<string> | null)[],
  sinks?: readonly (ReadonlyMap<string, TensorSink> | undefined)[],
  delivered?: readonly (ReadonlySet<string> | undefined)[],
): InferOutput[][] {
  const batched = config.maxBatchSize > 0;
  const specs = new Map(modelOutputs(config).map((t) => [t.name, t]));
  const results: InferOutput[][] = rows.map(() => []);
  for (const t of outputs) {
    const spec = specs.get(t.name)!;
    const total = batched ? t.dims[0] : 1;
    const perRow = batched ? elementCount(t.dims.slice(1)) : elementCount(t.dims);
    const bytes = isSlotTensor(t) ? slot!.subarray(t.offset, t.offset + t.byteLength) : isMovedTensor(t) ? new Uint8Array(t.buffer) : null;
    let row = 0;
    rows.forEach((n, r) => {
      const own = batched ? n : total;
      const from = row;
      row += own;
      if (wanted[r] && !wanted[r]!.has(t.name)) return;
      const tail = batched ? t.dims.slice(1) : t.dims;
      const shape = spec.reshape ? outputShape(spec.dims, own, perRow, batched) : batched ? [own, ...tail] : [...tail];
      let data: ArrayBuffer | string[];
      const sink = sinks?.[r]?.get(t.name);
      if (delivered?.[r]?.has(t.name)) {
        data = NO_BYTES;
      } else if (isWrittenTensor(t)) {
        throw new Error(`output '${t.name}' was written into client regions only, but request ${r} wants it back`);
      } else if (sink) {
        const rowBytes = bytes ? bytes.length / Math.max(1, total) : 0;
        sink.accept(isStringTensor(t) ? t.strings.slice(from * perRow, (from + own) * perRow) : bytes!.subarray(from * rowBytes, (from + own) * rowBytes));
        data = isStringTensor(t) ? [] : NO_BYTES;
      } else if (isStringTensor(t)) {
        data = rows.length === 1 ? [...t.strings] : t.strings.slice(from * perRow, (from + own) * perRow);
      } else if (isMovedTensor(t) && rows.length === 1) {
        data = t.buffer; // moved buffer of a lone request: hand it on as is
      } else {
        const rowBytes = bytes!.length / Math.max(1, total);
        data = bytes!.slice(from * rowBytes, (from + own) * rowBytes).buffer;
      }
      results[r].push({ name: t.name, datatype: spec.datatype, shape, data });
    });
  }
  return results;
}

/** Which outputs of a batch a worker writes straight into client regions, and who hears of it. */
export interface DirectPlan {
  /** For the worker: one entry per request and output it writes. */
  readonly direct: DirectOutput[];
  /** The sink of each entry of `direct`, in its order, to settle with the worker's outcome. */
  readonly sinks: DirectSink[];
  /** Outputs no request wants back from the worker: every request that wants them has an entry. */
  readonly writtenOnly: string[];
  /** Per request, the outputs in `direct` (for splitBatch). */
  readonly delivered: (Set<string> | undefined)[];
}

/**
 * Plans the direct writes of a batch: each numeric output `names` lists that request r wants
 * into a sink offering `direct` (a client region) is written there by the worker, at the
 * request's rows, rather than copied out of the slot by the primary.
 */
export function planDirectOutputs(
  config: ModelConfig,
  names: readonly string[],
  rows: readonly number[],
  wanted: readonly (ReadonlySet<string> | null)[],
  sinks: readonly (ReadonlyMap<string, TensorSink> | undefined)[],
): DirectPlan {
  const batched = config.maxBatchSize > 0;
  const numeric = new Set(config.outputs.filter((t) => t.datatype.wire !== 'BYTES').map((t) => t.name));
  const plan: DirectPlan = { direct: [], sinks: [], writtenOnly: [], delivered: rows.map(() => undefined) };
  let row = 0;
  rows.forEach((n, r) => {
    const first = row;
    row += n;
    const own = sinks[r];
    if (!own) return;
    for (const [name, sink] of own) {
      if (!sink.direct || !numeric.has(name) || !names.includes(name)) continue;
      plan.direct.push({ name, request: r, rows: batched ? [first, n] : null, file: sink.direct.file });
      plan.sinks.push(sink.direct);
      (plan.delivered[r] ??= new Set()).add(name);
    }
  });
  for (const name of names) {
    const everyone = rows.every((_, r) => (wanted[r] !== null && !wanted[r]!.has(name)) || plan.delivered[r]?.has(name));
    if (everyone) plan.writtenOnly.push(name);
  }
  return plan;
}

/** The shape a reshaped output is reported with: the config's dims, one -1 resolved. */
function outputShape(dims: readonly number[], rows: number, perRow: number, batched: boolean): number[] {
  const fixed = elementCount(dims.filter((d) => d !== -1));
  const resolved = dims.map((d) => (d === -1 ? (fixed === 0 ? 0 : perRow / fixed) : d));
  return batched ? [rows, ...resolved] : resolved;
}
