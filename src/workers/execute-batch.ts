/**
 * Runs one batch in a worker: slot → runtime tensors → run → slot.
 *
 * onnxruntime-node refuses typed arrays over a SharedArrayBuffer ("Invalid argument"), so each
 * input is copied once from the slot into a worker-local buffer kept per input name and reused
 * for every batch (grown when a batch needs more). That memcpy is the one copy on the way in.
 * Outputs come back from the runtime in fresh buffers and are copied once into the slot after
 * the inputs; one that does not fit is moved across as its own buffer instead.
 */
import * as ort from 'onnxruntime-node';
import { alignUp, isSlotTensor, isStringTensor, type BatchTensor, type TensorRing } from '../shm/index.ts';
import type { OrtInstance } from './ort-instance.ts';
import type { RunTimings } from './protocol.ts';

type ArrayCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView & { length: number };

const arrayFor: Record<string, ArrayCtor & { BYTES_PER_ELEMENT: number }> = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, uint64: BigUint64Array, int64: BigInt64Array,
  float16: Uint16Array, float32: Float32Array, float64: Float64Array,
} as unknown as Record<string, ArrayCtor & { BYTES_PER_ELEMENT: number }>;

export class BatchExecutor {
  /** Worker-local input buffers by input name, reused across batches. */
  private readonly scratch = new Map<string, ArrayBuffer>();

  constructor(private readonly instance: OrtInstance, private readonly ring: TensorRing) {}

  async run(slot: number, inputs: readonly BatchTensor[], outputNames: readonly string[]): Promise<{ outputs: BatchTensor[]; moved: ArrayBuffer[]; timings: RunTimings }> {
    const t0 = process.hrtime.bigint();
    const slotBytes = slot >= 0 ? this.ring.bytes(slot) : null;
    if (slot >= 0) this.ring.begin(slot);
    const feeds: Record<string, ort.Tensor> = {};
    let inputEnd = 0;
    for (const t of inputs) {
      if (isStringTensor(t)) {
        feeds[t.name] = new ort.Tensor('string', t.strings as string[], t.dims);
      } else if (isSlotTensor(t)) {
        const local = this.localBuffer(t.name, t.byteLength);
        new Uint8Array(local, 0, t.byteLength).set(slotBytes!.subarray(t.offset, t.offset + t.byteLength));
        feeds[t.name] = tensorOver(t.type, local, t.byteLength, t.dims);
        inputEnd = Math.max(inputEnd, t.offset + t.byteLength);
      } else {
        feeds[t.name] = tensorOver(t.type, t.buffer, t.buffer.byteLength, t.dims);
      }
    }
    const t1 = process.hrtime.bigint();
    const results = await this.instance.run(feeds, outputNames);
    const t2 = process.hrtime.bigint();
    const outputs: BatchTensor[] = [];
    const moved: ArrayBuffer[] = [];
    let cursor = alignUp(inputEnd);
    for (const name of outputNames) {
      const tensor = results[name];
      if (!tensor) throw new Error(`the model produced no output '${name}'`);
      const dims = [...tensor.dims];
      if (tensor.type === 'string') {
        outputs.push({ name, type: 'string', dims, strings: tensor.data as string[] });
        continue;
      }
      const view = tensor.data as ArrayBufferView;
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      if (slotBytes && cursor + bytes.length <= slotBytes.length) {
        slotBytes.set(bytes, cursor);
        outputs.push({ name, type: tensor.type, dims, offset: cursor, byteLength: bytes.length });
        cursor = alignUp(cursor + bytes.length);
      } else {
        const buffer = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer
          ? view.buffer
          : view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
        outputs.push({ name, type: tensor.type, dims, buffer });
        moved.push(buffer);
      }
    }
    if (slot >= 0) this.ring.finish(slot);
    const t3 = process.hrtime.bigint();
    return { outputs, moved, timings: { inputNs: Number(t1 - t0), inferNs: Number(t2 - t1), outputNs: Number(t3 - t2) } };
  }

  private localBuffer(name: string, bytes: number): ArrayBuffer {
    let buffer = this.scratch.get(name);
    if (!buffer || buffer.byteLength < bytes) {
      buffer = new ArrayBuffer(Math.max(bytes, (buffer?.byteLength ?? 0) * 2));
      this.scratch.set(name, buffer);
    }
    return buffer;
  }
}

function tensorOver(type: string, buffer: ArrayBuffer, byteLength: number, dims: readonly number[]): ort.Tensor {
  const Ctor = arrayFor[type];
  if (!Ctor) throw new Error(`tensor type '${type}' is not supported by onnxruntime-node`);
  const data = new Ctor(buffer, 0, byteLength / Ctor.BYTES_PER_ELEMENT);
  return new ort.Tensor(type as 'float32', data as unknown as Float32Array, dims);
}
