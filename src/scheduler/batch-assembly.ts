/**
 * Writes a batch's inputs: each request's tensor contents straight into the ring slot at its
 * batch offset (the one write of the primary's side), strings into the descriptor. Contents in a
 * client's shared-memory region are not written at all: the input becomes a gathered tensor whose
 * part names the region's descriptor and position, and the worker reads it itself. A batch too
 * large for its slot (or one that got no slot) takes the slow path: one ArrayBuffer per input,
 * moved to the worker, region contents included.
 */
import { elementCount } from '../dtypes.ts';
import { alignUp, type BatchTensor, type GatherPart } from '../shm/index.ts';
import type { ModelConfig, TensorConfig } from '../model-config/index.ts';
import { writeData, type DirectSource, type InferInput, type TensorWriter } from '../inference/index.ts';

export interface AssembledBatch {
  readonly inputs: BatchTensor[];
  /**
   * True when every numeric input lies in the slot or is read by the worker from a client region
   * (false: the slow path was taken).
   */
  readonly inSlot: boolean;
  /** The region contents the worker reads itself; a gathered part's `source` indexes this. */
  readonly sources: readonly DirectSource[];
}

const directOf = (i: InferInput): DirectSource | undefined => (i.data as TensorWriter).direct;

/** The batch's value for one input: each request's tensor, in batch order. */
function column(requests: readonly (readonly InferInput[])[], name: string): InferInput[] {
  return requests.map((inputs) => inputs.find((i) => i.name === name)!);
}

/**
 * Lays out and writes the inputs of `requests` (each a request's inputs, all with the same names
 * and non-batch dims). `slot` is the slot's bytes, or null for no slot.
 */
export function assembleBatch(config: ModelConfig, requests: readonly (readonly InferInput[])[], slot: Uint8Array | null): AssembledBatch {
  const batched = config.maxBatchSize > 0;
  const names = requests[0].map((i) => i.name);
  const specs = new Map(config.inputs.map((t) => [t.name, t]));
  const columns = names.map((name) => column(requests, name));
  // Lay out first: every numeric input the worker does not read itself must fit, or none goes in
  // the slot.
  let total = 0;
  let allDirect = true;
  for (const col of columns) {
    if (Array.isArray(col[0].data)) continue;
    total = alignUp(total + col.reduce((n, i) => n + (directOf(i) ? 0 : (i.data as TensorWriter).byteLength), 0));
    allDirect &&= col.every(directOf);
  }
  const inSlot = slot !== null ? total <= slot.length : allDirect;
  const sources: DirectSource[] = [];
  let cursor = 0;
  const inputs = columns.map((col, k): BatchTensor => {
    const spec = specs.get(names[k])!;
    const first = col[0];
    const rows = batched ? col.reduce((n, i) => n + i.shape[0], 0) : 0;
    const shape = batched ? [rows, ...first.shape.slice(1)] : [...first.shape];
    const dims = spec.reshape ? reshaped(shape, spec, batched) : shape;
    const type = spec.datatype.ort!;
    if (Array.isArray(first.data)) {
      const strings = col.length === 1 ? first.data : col.flatMap((i) => i.data as string[]);
      return { name: spec.name, type: 'string', dims, strings };
    }
    const sizes = col.map((i) => (i.data as TensorWriter).byteLength);
    const byteLength = sizes.reduce((a, b) => a + b, 0);
    if (inSlot && col.some(directOf)) {
      const parts = col.map((i, r): GatherPart => {
        const direct = directOf(i);
        if (direct) {
          sources.push(direct);
          return { file: direct.file, request: r, source: sources.length - 1 };
        }
        const part = { offset: cursor, byteLength: sizes[r] };
        writeData(i.data as ArrayBuffer | TensorWriter, slot!.subarray(cursor, cursor + sizes[r]));
        cursor += sizes[r];
        return part;
      });
      cursor = alignUp(cursor);
      return { name: spec.name, type, dims, byteLength, parts };
    }
    if (inSlot) {
      const offset = cursor;
      let at = offset;
      col.forEach((i, r) => {
        writeData(i.data as ArrayBuffer | TensorWriter, slot!.subarray(at, at + sizes[r]));
        at += sizes[r];
      });
      cursor = alignUp(offset + byteLength);
      return { name: spec.name, type, dims, offset, byteLength };
    }
    if (col.length === 1 && first.data instanceof ArrayBuffer) return { name: spec.name, type, dims, buffer: first.data };
    const buffer = new ArrayBuffer(byteLength);
    const bytes = new Uint8Array(buffer);
    let at = 0;
    col.forEach((i, r) => {
      writeData(i.data as ArrayBuffer | TensorWriter, bytes.subarray(at, at + sizes[r]));
      at += sizes[r];
    });
    return { name: spec.name, type, dims, buffer };
  });
  return { inputs, inSlot, sources };
}

/** Applies a config reshape, keeping the batch dim and resolving one -1 from the element count. */
export function reshaped(shape: readonly number[], spec: TensorConfig, batched: boolean): number[] {
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
  for (const t of [...config.inputs, ...config.outputs]) {
    if (t.datatype.wire === 'BYTES') continue;
    const dims = t.reshape ?? t.dims;
    if (dims.some((d) => d < 0)) return Math.max(fallback, total);
    total = alignUp(total + rows * elementCount(dims) * t.datatype.byteSize);
  }
  return Math.max(total, 4096);
}
