/**
 * The in-process ceiling: the same model run by onnxruntime-node in a plain loop at a fixed
 * batch size and thread count, with nothing else in the way. Items (batch elements) per second.
 * Works for any model whose inputs are numeric, BOOL or BYTES tensors: each input is filled
 * with small deterministic values of its type.
 */
import * as ort from 'onnxruntime-node';
import { datatypeFromWire, elementCount, floatToHalf } from '../src/dtypes.ts';

/** One model input as the ceiling feeds it. */
export interface CeilingInput {
  readonly name: string;
  /** Triton datatype: FP32, INT32, BOOL, ... */
  readonly datatype: string;
  /** The shape of one batch element (without the batch dimension). */
  readonly dims: readonly number[];
}

/** Small values (0..16, or 0..1 for floats) of one datatype, as the runtime takes them. */
export function sampleTensor(input: CeilingInput, batch: number): ort.Tensor {
  const dt = datatypeFromWire(input.datatype);
  if (!dt || dt.ort === null) throw new Error(`input '${input.name}': the ceiling cannot feed datatype ${input.datatype}`);
  const shape = [batch, ...input.dims];
  const count = elementCount(shape);
  const value = (i: number): number => i % 17;
  let data: ort.Tensor['data'];
  switch (dt.json) {
    case 'string': data = Array.from({ length: count }, (_, i) => String(value(i))); break;
    case 'bigint': {
      const arr = new dt.array!(new ArrayBuffer(count * 8)) as BigInt64Array; // or BigUint64Array: same values
      for (let i = 0; i < count; i++) arr[i] = BigInt(value(i));
      data = arr;
      break;
    }
    case 'half': data = Uint16Array.from({ length: count }, (_, i) => floatToHalf(value(i) / 17)); break;
    case 'bool': data = Uint8Array.from({ length: count }, (_, i) => i & 1); break;
    default: {
      const floating = dt.wire === 'FP32' || dt.wire === 'FP64';
      const arr = new dt.array!(new ArrayBuffer(count * dt.byteSize)) as Float32Array;
      for (let i = 0; i < count; i++) arr[i] = floating ? value(i) / 17 : value(i);
      data = arr;
    }
  }
  return new ort.Tensor(dt.ort as 'float32', data as Float32Array, shape);
}

/** Runs one session at each batch size in turn (3 warm-up runs, then a `durationMs` loop). */
export async function measureCeilingAtBatches(modelFile: string, inputs: readonly CeilingInput[], batches: readonly number[], threads: number, durationMs: number): Promise<{ batch: number; throughput: number }[]> {
  const session = await ort.InferenceSession.create(modelFile, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const results: { batch: number; throughput: number }[] = [];
  try {
    for (const batch of batches) {
      const feeds = Object.fromEntries(inputs.map((input) => [input.name, sampleTensor(input, batch)]));
      for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
      const start = performance.now();
      let runs = 0;
      while (performance.now() - start < durationMs) {
        await session.run(feeds);
        runs++;
      }
      const seconds = (performance.now() - start) / 1000;
      results.push({ batch, throughput: (runs * batch) / seconds });
    }
  } finally {
    await session.release();
  }
  return results;
}

/** Items per second of `modelFile` at one batch size. */
export async function measureCeiling(modelFile: string, inputs: readonly CeilingInput[], batch: number, threads: number, durationMs: number): Promise<number> {
  const [result] = await measureCeilingAtBatches(modelFile, inputs, [batch], threads, durationMs);
  return result.throughput;
}
