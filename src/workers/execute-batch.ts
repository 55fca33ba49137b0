/**
 * Runs one batch in a worker: slot → host tensors → backend → slot. Only the Backend interface is
 * used here, never a runtime's own types.
 *
 * onnxruntime-node refuses typed arrays over a SharedArrayBuffer ("Invalid argument"), so each
 * input is copied once from the slot into a worker-local buffer kept per input name and reused
 * for every batch (grown when a batch needs more). That memcpy is the one copy on the way in, and
 * it also means no backend ever sees memory the primary may write. Outputs come back from the
 * backend in fresh buffers and are copied once into the slot after the inputs; one that does not
 * fit is moved across as its own buffer instead.
 *
 * Tensors in client shared-memory regions skip the slot: a gathered input's region parts are read
 * (pread on the region's descriptor) straight into the worker-local buffer, and direct outputs are
 * written (pwrite) straight from the runtime's output into the regions. So such a tensor moves once
 * each way, on this thread, and the primary copies none of its bytes. A read or write that fails
 * is reported for its request alone; the batch runs on.
 */
import { typedArrayOver } from '../dtypes.ts';
import {
  alignUp, isFilePart, isGatheredTensor, isMovedTensor, isSlotTensor, isStringTensor, readFully, writeFully,
  type BatchTensor, type DirectOutput, type DirectWriteOutcome, type FailedRead, type TensorRing,
} from '../shm/index.ts';
import { isStringHostTensor, type Backend, type HostTensor, type HostTensors } from './backends/backend.ts';
import type { DirectResults, RunTask, RunTimings } from './protocol.ts';

export class BatchExecutor {
  /** Worker-local input buffers by input name, reused across batches. */
  private readonly scratch = new Map<string, ArrayBuffer>();

  constructor(private readonly backend: Backend, private readonly ring: TensorRing) {}

  async run(task: RunTask): Promise<{ outputs: BatchTensor[]; moved: ArrayBuffer[]; timings: RunTimings; direct: DirectResults; errors?: readonly (string | null)[]; streamed?: readonly number[] }> {
    const { slot, inputs, outputs: outputNames } = task;
    const t0 = process.hrtime.bigint();
    const slotBytes = slot >= 0 ? this.ring.bytes(slot) : null;
    if (slot >= 0) this.ring.begin(slot);
    const feeds: Record<string, HostTensor> = {};
    const failedReads: FailedRead[] = [];
    let inputEnd = 0;
    for (const t of inputs) {
      if (isStringTensor(t)) {
        feeds[t.name] = { type: 'string', dims: t.dims, data: t.strings };
      } else if (isSlotTensor(t)) {
        const local = this.localBuffer(t.name, t.byteLength);
        new Uint8Array(local, 0, t.byteLength).set(slotBytes!.subarray(t.offset, t.offset + t.byteLength));
        feeds[t.name] = tensorOver(t.type, local, t.byteLength, t.dims);
        inputEnd = Math.max(inputEnd, t.offset + t.byteLength);
      } else if (isGatheredTensor(t)) {
        const local = this.localBuffer(t.name, t.byteLength);
        let at = 0;
        for (const part of t.parts) {
          if (isFilePart(part)) {
            const target = new Uint8Array(local, at, part.file.byteLength);
            const failure = readFully(part.file.fd, target, part.file.position);
            if (failure !== null) {
              // The buffer still holds an earlier batch's bytes (maybe another client's): never
              // let them stand in for this input, even though its request will fail.
              target.fill(0);
              failedReads.push({ request: part.request, source: part.source, reason: failure });
            }
            at += part.file.byteLength;
          } else {
            new Uint8Array(local, at, part.byteLength).set(slotBytes!.subarray(part.offset, part.offset + part.byteLength));
            inputEnd = Math.max(inputEnd, part.offset + part.byteLength);
            at += part.byteLength;
          }
        }
        feeds[t.name] = tensorOver(t.type, local, t.byteLength, t.dims);
      } else if (isMovedTensor(t)) {
        feeds[t.name] = tensorOver(t.type, t.buffer, t.buffer.byteLength, t.dims);
      } else {
        throw new Error(`input '${t.name}' came without data`);
      }
    }
    const t1 = process.hrtime.bigint();
    let results: HostTensors;
    let errors: readonly (string | null)[] | undefined;
    let streamed: readonly number[] | undefined;
    if (task.requests && this.backend.executeRequests) {
      ({ outputs: results, errors, streamed } = await this.backend.executeRequests(feeds, outputNames, task.requests));
    } else {
      results = await this.backend.execute(feeds, outputNames);
    }
    const t2 = process.hrtime.bigint();
    const outputs: BatchTensor[] = [];
    const moved: ArrayBuffer[] = [];
    const direct = task.direct ?? [];
    const writes: DirectWriteOutcome[] = direct.map(() => ({ failed: 'the model produced no such output' }));
    // Every request failed: there are no outputs to place.
    const none = streamed !== undefined || (errors !== undefined && errors.every((e) => e !== null));
    const writtenOnly = new Set(task.writtenOnly ?? []);
    const unread = new Set(failedReads.map((f) => f.request));
    let cursor = alignUp(inputEnd);
    for (const name of none ? [] : outputNames) {
      const tensor = results[name];
      if (!tensor) throw new Error(`the model produced no output '${name}'`);
      const dims = [...tensor.dims];
      if (isStringHostTensor(tensor)) {
        direct.forEach((d, k) => {
          if (d.name === name) writes[k] = { failed: 'a BYTES output is not written by the worker' };
        });
        outputs.push({ name, type: 'string', dims, strings: tensor.data });
        continue;
      }
      const view = tensor.data;
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      direct.forEach((d, k) => {
        if (d.name === name) writes[k] = unread.has(d.request) ? { failed: 'not written: an input of the request could not be read' } : writeDirect(d, bytes, dims);
      });
      if (writtenOnly.has(name)) {
        outputs.push({ name, type: tensor.type, dims, written: true });
      } else if (slotBytes && cursor + bytes.length <= slotBytes.length) {
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
    return {
      outputs,
      moved,
      timings: { inputNs: Number(t1 - t0), inferNs: Number(t2 - t1), outputNs: Number(t3 - t2) },
      direct: { failedReads, writes },
      ...(errors ? { errors } : {}),
      ...(streamed ? { streamed } : {}),
    };
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

/**
 * Writes a request's rows of an output (`bytes`, the whole batch's, of shape `dims`) into its
 * client region. An output larger than the region's range is not written at all.
 */
function writeDirect(d: DirectOutput, bytes: Uint8Array, dims: readonly number[]): DirectWriteOutcome {
  let part = bytes;
  if (d.rows) {
    const rowBytes = dims[0] > 0 ? bytes.length / dims[0] : 0;
    part = bytes.subarray(d.rows[0] * rowBytes, (d.rows[0] + d.rows[1]) * rowBytes);
  }
  if (part.length > d.file.byteLength) return { tooLarge: part.length };
  const failure = writeFully(d.file.fd, part, d.file.position);
  return failure === null ? { written: part.length } : { failed: failure };
}

/** A host tensor over the first `byteLength` bytes of a worker-local (or moved) buffer. */
function tensorOver(type: string, buffer: ArrayBuffer, byteLength: number, dims: readonly number[]): HostTensor {
  return { type, dims, data: typedArrayOver(type, buffer, byteLength) };
}
