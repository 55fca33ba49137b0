/**
 * Splits a batch's outputs back into one result per request: request r gets its rows of each
 * output, copied once out of the slot (or the moved buffer) into its own buffer, because the
 * slot is reused as soon as the split is done.
 */
import { elementCount } from '../dtypes.ts';
import { isSlotTensor, isStringTensor, type BatchTensor } from '../shm/index.ts';
import type { ModelConfig } from './config/model-config.ts';
import type { InferOutput, TensorSink } from './infer-request.ts';

const NO_BYTES = new ArrayBuffer(0);

/**
 * `rows[r]` is request r's number of batch elements (ignored for a model without batching,
 * whose batch is always one request). `wanted[r]` names the outputs request r asked for;
 * `sinks[r]`, when given, the outputs it wants handed to a sink (written straight out of the
 * slot) rather than copied into its result.
 */
export function splitBatch(
  config: ModelConfig,
  outputs: readonly BatchTensor[],
  slot: Uint8Array | null,
  rows: readonly number[],
  wanted: readonly (ReadonlySet<string> | null)[],
  sinks?: readonly (ReadonlyMap<string, TensorSink> | undefined)[],
): InferOutput[][] {
  const batched = config.maxBatchSize > 0;
  const specs = new Map(config.outputs.map((t) => [t.name, t]));
  const results: InferOutput[][] = rows.map(() => []);
  for (const t of outputs) {
    const spec = specs.get(t.name)!;
    const total = batched ? t.dims[0] : 1;
    const perRow = batched ? elementCount(t.dims.slice(1)) : elementCount(t.dims);
    const bytes = isStringTensor(t) ? null
      : isSlotTensor(t) ? slot!.subarray(t.offset, t.offset + t.byteLength) : new Uint8Array(t.buffer);
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
      if (sink) {
        const rowBytes = bytes ? bytes.length / Math.max(1, total) : 0;
        sink.accept(isStringTensor(t) ? t.strings.slice(from * perRow, (from + own) * perRow) : bytes!.subarray(from * rowBytes, (from + own) * rowBytes));
        data = isStringTensor(t) ? [] : NO_BYTES;
      } else if (isStringTensor(t)) {
        data = rows.length === 1 ? [...t.strings] : t.strings.slice(from * perRow, (from + own) * perRow);
      } else if (!isSlotTensor(t) && rows.length === 1) {
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

/** The shape a reshaped output is reported with: the config's dims, one -1 resolved. */
function outputShape(dims: readonly number[], rows: number, perRow: number, batched: boolean): number[] {
  const fixed = elementCount(dims.filter((d) => d !== -1));
  const resolved = dims.map((d) => (d === -1 ? (fixed === 0 ? 0 : perRow / fixed) : d));
  return batched ? [rows, ...resolved] : resolved;
}
