/**
 * The piscina worker. Each worker thread holds one model instance, created from workerData as
 * soon as the thread starts; every task waits for that load to finish.
 */
import { move, workerData } from 'piscina';
import { Piscina } from 'piscina';
import { OrtInstance } from './ort-instance.ts';
import type { WireTensor, WorkerReply, WorkerSetup, WorkerTask } from './protocol.ts';

const setup = workerData as WorkerSetup;
const instance: Promise<OrtInstance> = OrtInstance.create(setup);
// The rejection is reported by the first task; don't let it crash the thread before then.
instance.catch(() => {});

/** Wraps a reply so piscina moves the output buffers instead of cloning them. */
function withMovedBuffers(reply: WorkerReply, tensors: readonly WireTensor[]): unknown {
  const buffers = tensors.map((t) => t.data).filter((d): d is ArrayBuffer => d instanceof ArrayBuffer);
  if (buffers.length === 0) return reply;
  return move({
    get [Piscina.transferableSymbol]() { return buffers; },
    get [Piscina.valueSymbol]() { return reply; },
  } as unknown as Parameters<typeof move>[0]);
}

export default async function handle(task: WorkerTask): Promise<unknown> {
  let model: OrtInstance;
  try {
    model = await instance;
  } catch (err) {
    return { ok: false, message: (err as Error).message } satisfies WorkerReply;
  }
  try {
    if (task.op === 'load') {
      return { ok: true, op: 'load', ...model.metadata() } satisfies WorkerReply;
    }
    const start = process.hrtime.bigint();
    const outputs = await model.run(task.inputs, task.outputs);
    const computeNs = Number(process.hrtime.bigint() - start);
    return withMovedBuffers({ ok: true, op: 'run', outputs, computeNs }, outputs);
  } catch (err) {
    return { ok: false, message: (err as Error).message || String((err as Error).stack) } satisfies WorkerReply;
  }
}

