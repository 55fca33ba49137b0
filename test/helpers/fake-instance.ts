/**
 * A fake model instance for scheduler component tests: it implements ModelInstance, records
 * each batch it is given, and finishes a batch only when the test says so, so a test drives the
 * scheduler through these promises instead of waiting on time. Its "model" is the identity
 * INPUT0 → OUTPUT0 (FP32), read from the ring slot or a moved buffer as a worker would.
 */
import { TensorRing, isMovedTensor, isSlotTensor } from '../../src/shm/index.ts';
import type { InstanceBatch, ModelInstance, RunResult } from '../../src/instance/index.ts';
import { InstanceSet } from '../../src/instance/index.ts';
import { modelConfigType, normalizeConfig, parsePbtxt, type ModelConfig } from '../../src/model-config/index.ts';
import type { InferRequest } from '../../src/inference/index.ts';
import type { SchedulerClock } from '../../src/scheduler/queued-scheduler.ts';

export interface FakeRun {
  readonly batch: InstanceBatch;
  /** The INPUT0 values of the batch, in batch order. */
  readonly values: number[];
  /** Answers the batch with its inputs as outputs. */
  finish(): void;
  /** Fails the batch as a backend error would. */
  fail(message: string): void;
}

export class FakeInstance implements ModelInstance {
  readonly ring = TensorRing.create(2, 4096);
  readonly runs: FakeRun[] = [];
  private running = 0;

  constructor(readonly name: string, readonly group = 'g', readonly device = 'CPU') {}

  get busy(): boolean {
    return this.running > 0;
  }

  run(batch: InstanceBatch): Promise<RunResult> {
    this.running++;
    const input = batch.inputs[0];
    const bytes = isSlotTensor(input) ? this.ring.bytes(batch.slot).slice(input.offset, input.offset + input.byteLength)
      : isMovedTensor(input) ? new Uint8Array(input.buffer).slice() : new Uint8Array(0);
    if (batch.slot >= 0) this.ring.begin(batch.slot);
    const values = [...new Float32Array(bytes.buffer)];
    const done = new Promise<RunResult>((resolve, reject) => {
      this.runs.push({
        batch,
        values,
        finish: () => {
          if (batch.slot >= 0) this.ring.finish(batch.slot);
          const output = { name: 'OUTPUT0', type: 'float32', dims: input.dims, buffer: bytes.buffer };
          resolve({ outputs: [output], timings: { inputNs: 1, inferNs: 1, outputNs: 1 }, worker: 0, direct: { failedReads: [], writes: [] } });
        },
        fail: (message) => reject(new Error(message)),
      });
    });
    return done.finally(() => {
      this.running--;
    });
  }

  async close(): Promise<void> {}
}

/** An instance set of fake instances named `names`. */
export function fakeInstances(...names: string[]): { set: InstanceSet; instances: FakeInstance[] } {
  const instances = names.map((n) => new FakeInstance(n));
  return { set: new InstanceSet(instances), instances };
}

/** The config of an FP32 [dims] → [dims] model called 'fake', from config.pbtxt text (`extra` appended). */
export function fakeConfig(extra: string, maxBatchSize = 8, dims = '1'): ModelConfig {
  const text = `platform: "onnxruntime_onnx"
max_batch_size: ${maxBatchSize}
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ ${dims} ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ ${dims} ] } ]
${extra}`;
  return normalizeConfig({ ...parsePbtxt(text, modelConfigType()), name: 'fake' }, { modelName: 'fake', gpus: [], io: null });
}

/** A checked request of one row, INPUT0 = value, or the row `values` for a model with dims [ -1 ]. */
export function fakeRequest(value: number | number[], parameters: Record<string, unknown> = {}): InferRequest {
  const row = typeof value === 'number' ? [value] : value;
  return {
    id: String(value),
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, row.length], data: { kind: 'raw', bytes: new Uint8Array(new Float32Array(row).buffer) } }],
    outputs: null,
    parameters,
  };
}

/** The OUTPUT0 value of an answer. */
export function outputOf(response: { outputs: readonly { data: unknown }[] }): number {
  return new Float32Array(response.outputs[0].data as ArrayBuffer)[0];
}

/** A clock that moves only when the test advances it; timers fire as it passes them. */
export class FakeClock implements SchedulerClock {
  private now = 0;
  private timers: { at: number; fn: () => void }[] = [];

  nowUs(): number {
    return this.now;
  }

  after(delayUs: number, fn: () => void): () => void {
    const timer = { at: this.now + delayUs, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers armed now. */
  get pending(): number {
    return this.timers.length;
  }

  advance(us: number): void {
    this.now += us;
    const due = this.timers.filter((t) => t.at <= this.now);
    this.timers = this.timers.filter((t) => t.at > this.now);
    for (const t of due) t.fn();
  }
}
