/**
 * Writes a batch's inputs: each request's tensor contents straight into the ring slot at its
 * batch offset (the one write of the primary's side), strings into the descriptor. Contents in a
 * client's shared-memory region are not written at all: the input becomes a gathered tensor whose
 * part names the region's descriptor and position, and the worker reads it itself. A batch too
 * large for its slot (or one that got no slot) takes the slow path: one ArrayBuffer per input,
 * moved to the worker, region contents included.
 */
import { elementCount, elementTypeOf } from '../dtypes.ts';
import { alignUp, type BatchTensor, type GatherPart } from '../shm/index.ts';
import type { ModelConfig, TensorConfig } from '../model-config/index.ts';
import { copyNumeric, numericByteLength, type InferInput, type RawTensorData, type RegionTensorData } from '../inference/index.ts';

export interface AssembledBatch {
  readonly inputs: BatchTensor[];
  /**
   * True when every numeric input lies in the slot or is read by the worker from a client region
   * (false: the slow path was taken).
   */
  readonly inSlot: boolean;
  /** The region contents the worker reads itself; a gathered part's `source` indexes this. */
  readonly sources: readonly RegionTensorData[];
}

/** One input of the batch: its first request's header, the batch's rows, each request's contents. */
interface ColumnHead {
  readonly name: string;
  readonly first: InferInput;
  /** The sum of the requests' batch dims (0 for a model without batching). */
  readonly rows: number;
}
type Column =
  | ColumnHead & { readonly kind: 'strings'; readonly strings: readonly (readonly string[])[] }
  | ColumnHead & { readonly kind: 'numeric'; readonly data: readonly (RawTensorData | RegionTensorData)[] };

/**
 * The batch's column for input `name`. Every request of a batch passed checkRequest against the
 * same config, so an input's datatype, and with it strings versus numeric contents, is the same
 * in every request; a mix would be a bug upstream, and fails loudly here.
 */
function column(requests: readonly (readonly InferInput[])[], name: string, batched: boolean): Column {
  // Plain loops, no spreads or intermediate arrays: this runs for every input of every batch on
  // the primary thread (a version with finds, maps and an object spread cost about 1 µs a column).
  const data: (RawTensorData | RegionTensorData)[] = [];
  let strings: (readonly string[])[] | null = null;
  let first: InferInput | undefined;
  let rows = 0;
  for (const inputs of requests) {
    let input: InferInput | undefined;
    for (const candidate of inputs) {
      if (candidate.name === name) {
        input = candidate;
        break;
      }
    }
    if (!input) throw new Error(`input '${name}' is missing from a request of the batch`);
    first ??= input;
    if (batched) rows += input.shape[0];
    const d = input.data;
    if (d.kind === 'strings') (strings ??= []).push(d.strings);
    else data.push(d);
  }
  if (strings && data.length > 0) throw new Error(`input '${name}' mixes strings and numeric contents in one batch`);
  return strings ? { name, first: first!, rows, kind: 'strings', strings } : { name, first: first!, rows, kind: 'numeric', data };
}

/** Writes each request's contents back to back from the start of `target`. */
function writeParts(data: readonly (RawTensorData | RegionTensorData)[], target: Uint8Array): void {
  let at = 0;
  for (const d of data) {
    const n = numericByteLength(d);
    copyNumeric(d, target.subarray(at, at + n));
    at += n;
  }
}

/**
 * Lays out and writes the inputs of `requests` (each a request's inputs, all with the same names
 * and non-batch dims). `slot` is the slot's bytes, or null for no slot.
 */
export function assembleBatch(config: ModelConfig, requests: readonly (readonly InferInput[])[], slot: Uint8Array | null): AssembledBatch {
  const batched = config.maxBatchSize > 0;
  const specs = new Map(modelInputs(config).map((t) => [t.name, t]));
  const columns = requests[0].map((i) => column(requests, i.name, batched));
  // Lay out first: every numeric input the worker does not read itself must fit, or none goes in
  // the slot.
  let total = 0;
  let allDirect = true;
  for (const col of columns) {
    if (col.kind === 'strings') continue;
    total = alignUp(total + col.data.reduce((n, d) => n + (d.kind === 'region' ? 0 : d.bytes.byteLength), 0));
    allDirect &&= col.data.every((d) => d.kind === 'region');
  }
  const inSlot = slot !== null ? total <= slot.length : allDirect;
  const sources: RegionTensorData[] = [];
  let cursor = 0;
  const inputs = columns.map((col): BatchTensor => {
    const spec = specs.get(col.name)!;
    const shape = batched ? [col.rows, ...col.first.shape.slice(1)] : [...col.first.shape];
    const dims = spec.reshape ? reshaped(shape, spec, batched) : shape;
    if (col.kind === 'strings') {
      const strings = col.strings.length === 1 ? col.strings[0] : col.strings.flat();
      return { name: spec.name, type: 'string', dims, strings };
    }
    const type = elementTypeOf(spec.datatype);
    const byteLength = col.data.reduce((n, d) => n + numericByteLength(d), 0);
    if (inSlot && col.data.some((d) => d.kind === 'region')) {
      const parts = col.data.map((d, r): GatherPart => {
        if (d.kind === 'region') {
          sources.push(d);
          return { file: d.file, request: r, source: sources.length - 1 };
        }
        const part = { offset: cursor, byteLength: d.bytes.byteLength };
        slot!.set(d.bytes, cursor);
        cursor += d.bytes.byteLength;
        return part;
      });
      cursor = alignUp(cursor);
      return { name: spec.name, type, dims, byteLength, parts };
    }
    if (inSlot) {
      const offset = cursor;
      writeParts(col.data, slot!.subarray(offset, offset + byteLength));
      cursor = alignUp(offset + byteLength);
      return { name: spec.name, type, dims, offset, byteLength };
    }
    // The slow path copies even a lone raw input: its bytes are a view into the request body or
    // message, which must not be moved (detached) to the worker.
    const buffer = new ArrayBuffer(byteLength);
    writeParts(col.data, new Uint8Array(buffer));
    return { name: spec.name, type, dims, buffer };
  });
  return { inputs, inSlot, sources };
}

/** Every input the model is fed: the client's, and a sequence model's controls and states. */
export function modelInputs(config: ModelConfig): TensorConfig[] {
  const seq = config.sequenceBatching;
  return seq ? [...config.inputs, ...seq.controlTensors, ...seq.states.map((s) => s.input)] : [...config.inputs];
}

/** Every output the model may be asked for: the config's, and a sequence model's state outputs. */
export function modelOutputs(config: ModelConfig): TensorConfig[] {
  const states = (config.sequenceBatching?.states ?? []).map((s) => s.output).filter((t) => !config.outputs.some((o) => o.name === t.name));
  return [...config.outputs, ...states];
}

/** Applies a config reshape, keeping the batch dim and resolving one -1 from the element count. */
function reshaped(shape: readonly number[], spec: TensorConfig, batched: boolean): number[] {
  const head = batched ? [shape[0]] : [];
  const target = spec.reshape ?? spec.dims;
  const total = elementCount(shape) / Math.max(1, elementCount(head));
  const fixed = elementCount(target.filter((d) => d !== -1));
  return [...head, ...target.map((d) => (d === -1 ? (fixed === 0 ? 0 : total / fixed) : d))];
}

/** Slot size that holds a full batch when every dim is fixed; `fallback` when some vary. */
export function slotBytesFor(config: ModelConfig, fallback: number): number {
  const rows = Math.max(1, config.maxBatchSize);
  let total = 0;
  for (const t of [...modelInputs(config), ...modelOutputs(config)]) {
    if (t.datatype.wire === 'BYTES') continue;
    const dims = t.reshape ?? t.dims;
    if (dims.some((d) => d < 0)) return Math.max(fallback, total);
    total = alignUp(total + rows * elementCount(dims) * t.datatype.byteSize);
  }
  return Math.max(total, 4096);
}
