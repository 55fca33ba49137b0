/**
 * The piscina worker. Each worker thread holds one model instance in the backend the primary
 * resolved (workerData.backendModule), loaded as soon as the thread starts; every task waits for
 * that load to finish. Tasks are `load` (report the model's io) and `run` (one batch, through the
 * pool's tensor ring). Nothing here knows which runtime the backend uses.
 */
import { threadId } from 'node:worker_threads';
import { move, Piscina, workerData } from 'piscina';
import { TensorRing } from '../shm/index.ts';
import { decodeDescriptor } from './descriptor-codec.ts';
import { BatchExecutor } from './execute-batch.ts';
import { loadBackend } from './backends/load-backend.ts';
import type { BackendMetadata } from './backends/backend.ts';
import type { WorkerReply, WorkerSetup, WorkerTask } from './protocol.ts';
import { WorkerLog } from './worker-log.ts';
import { callsHost } from './model-calls.ts';

const messageOf = (err: unknown): string => (err instanceof Error ? err.message || String(err.stack) : String(err));

const setup = workerData as WorkerSetup;
const ring = TensorRing.attach(setup.ring);
const log = new WorkerLog(setup);
const device = setup.device.kind === 'gpu' ? `GPU ${setup.device.id}` : 'CPU';
const host = setup.calls ? callsHost(setup.calls) : undefined;
const ready: Promise<{ metadata: BackendMetadata; executor: BatchExecutor; unload: () => Promise<void> }> = loadBackend(setup.backend, setup.backendModule, setup, host)
  .then(({ backend, metadata }) => {
    log.info(`instance ${setup.instance} of model '${setup.model}' version ${setup.version} loaded on ${device} (backend ${setup.backend}, ${setup.intraOpThreads} intra-op thread${setup.intraOpThreads === 1 ? '' : 's'})`);
    return { metadata, executor: new BatchExecutor(backend, ring), unload: () => backend.unload() };
  }, (err: unknown) => {
    log.error(`instance ${setup.instance} of model '${setup.model}' version ${setup.version} failed to load on ${device}: ${messageOf(err)}`);
    throw err;
  });
// The rejection is reported by the first task; don't let it crash the thread before then.
ready.catch(() => {});

/** Wraps a reply so piscina moves the listed buffers instead of cloning them. */
function withMovedBuffers(reply: WorkerReply, buffers: ArrayBuffer[]): unknown {
  if (buffers.length === 0) return reply;
  return move({
    get [Piscina.transferableSymbol]() { return buffers; },
    get [Piscina.valueSymbol]() { return reply; },
  } as unknown as Parameters<typeof move>[0]);
}

/** `message` is a task, or one packed by encodeDescriptor (a task with many records, see piscina-instance.ts). */
export default async function handle(message: WorkerTask | Uint8Array): Promise<unknown> {
  const task = message instanceof Uint8Array ? decodeDescriptor<WorkerTask>(message) : message;
  let loaded;
  try {
    loaded = await ready;
  } catch (err) {
    return { ok: false, message: messageOf(err) } satisfies WorkerReply;
  }
  try {
    if (task.op === 'load') {
      return { ok: true, op: 'load', inputs: loaded.metadata.inputs, outputs: loaded.metadata.outputs } satisfies WorkerReply;
    }
    if (task.op === 'unload') {
      // The session is released here, on its own thread and while no run is in progress, before
      // the primary stops the thread: a thread stopped during a native run aborts the process.
      await loaded.unload();
      return { ok: true, op: 'unload' } satisfies WorkerReply;
    }
    const { outputs, moved, timings, direct, errors, streamed } = await loaded.executor.run(task);
    return withMovedBuffers({ ok: true, op: 'run', outputs, timings, instance: threadId, direct, ...(errors ? { errors } : {}), ...(streamed ? { streamed } : {}) }, moved);
  } catch (err) {
    return { ok: false, message: messageOf(err) } satisfies WorkerReply;
  }
}
