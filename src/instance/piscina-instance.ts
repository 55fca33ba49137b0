/**
 * A model instance over piscina: a pool of exactly one worker thread, which holds the instance's
 * model instance in the model's backend, and the instance's tensor ring. Piscina cannot send a task to one chosen
 * worker of a larger pool, so each instance gets its own pool: the cost is a pool object and a
 * message port per instance, in exchange for a batch (and later a sequence) going to the named
 * instance. The scheduler runs a batch here only while the instance is free, so piscina never
 * queues.
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isGatheredTensor, TensorRing } from '../shm/index.ts';
import { backendModuleUrl, encodeDescriptor, type ModelCallMessage, type RunTask, type StreamedResponse, type WorkerReply, type WorkerSetup, type WorkerTask } from '../workers/index.ts';
import type { InstanceBatch, ModelCaller, ModelInstance, RunResult } from './model-instance.ts';

// Run the worker from the same kind of file as this module: .ts under tsx, .js once built.
const workerFile = new URL(`../workers/worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** One slot runs while the next batch is filled into the other. */
const RING_SLOTS = 2;

/** Where an instance goes and what it is called. */
export interface InstancePlacement {
  readonly name: string;
  readonly group: string;
}

export class PiscinaInstance implements ModelInstance {
  private running = 0;
  /** The running batch's decoupled responses: where they go, and how many came (see run). */
  private streaming: { readonly deliver: (r: StreamedResponse) => void; count: number; wake: (() => void) | null } | null = null;

  private constructor(
    readonly name: string,
    readonly group: string,
    readonly device: string,
    private readonly pool: Piscina<WorkerTask | Uint8Array, WorkerReply>,
    readonly ring: TensorRing,
    private readonly calls: BroadcastChannel | null,
  ) {}

  /**
   * Starts the instance's worker and waits until it has loaded its instance; throws the load
   * error. `setup.backend` (the config's backend name) is resolved to its module here, before
   * the thread starts, so an unknown backend fails with a reason that names it.
   */
  static async start(
    setup: Omit<WorkerSetup, 'ring' | 'backendModule' | 'instance' | 'calls'>, slotBytes: number, placement: InstancePlacement, caller?: ModelCaller,
  ): Promise<PiscinaInstance> {
    const backendModule = backendModuleUrl(setup.backend);
    const ring = TensorRing.create(RING_SLOTS, slotBytes);
    // The instance is made after its channel: responses reach it through this forward.
    let instance: PiscinaInstance | null = null;
    const calls = caller ? answerCalls(`nereid-calls-${randomUUID()}`, caller, (r) => instance?.streamed(r)) : null;
    const pool = new Piscina<WorkerTask | Uint8Array, WorkerReply>({
      filename: workerFile.href,
      workerData: { ...setup, instance: placement.name, backendModule, ring: ring.sab, calls: calls?.name ?? null } satisfies WorkerSetup,
      // Exactly one thread: if it dies, piscina starts a replacement, which loads its own instance.
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      // Per-task timing histograms cost a little on every batch; the scheduler keeps its own.
      recordTiming: false,
      workerHistogram: false,
    });
    try {
      const reply = await pool.run({ op: 'load' });
      if (!reply.ok) throw new Error(reply.message);
    } catch (err) {
      await pool.destroy();
      calls?.close();
      throw err;
    }
    const device = setup.device.kind === 'gpu' ? `GPU ${setup.device.id}` : 'CPU';
    instance = new PiscinaInstance(placement.name, placement.group, device, pool, ring, calls);
    return instance;
  }

  get busy(): boolean {
    return this.running > 0;
  }

  /** The thread id of the instance's worker now (a replacement after a death has another). */
  get threadId(): number {
    return this.pool.threads[0]?.threadId ?? -1;
  }

  async run(batch: InstanceBatch): Promise<RunResult> {
    const transferList: ArrayBuffer[] = [];
    for (const t of batch.inputs) {
      const buffer = (t as { buffer?: ArrayBuffer }).buffer;
      if (buffer && !transferList.includes(buffer)) transferList.push(buffer);
    }
    this.running++;
    const { onResponse, ...rest } = batch;
    if (onResponse) this.streaming = { deliver: onResponse, count: 0, wake: null };
    try {
      const task: RunTask = { op: 'run', ...rest };
      const reply = await this.pool.run(packs(task, transferList) ? encodeDescriptor(task) : task, { transferList });
      if (!reply.ok) throw new Error(reply.message);
      if (reply.op !== 'run') throw new Error('worker answered a run with a load reply');
      // The responses come on another channel than the reply: wait until all have come.
      const expected = reply.streamed?.reduce((a, b) => a + b, 0) ?? 0;
      const streaming = this.streaming;
      if (streaming && streaming.count < expected) {
        await new Promise<void>((resolve) => {
          streaming.wake = () => {
            if (streaming.count >= expected) resolve();
          };
        });
      }
      return { outputs: reply.outputs, timings: reply.timings, worker: reply.instance, direct: reply.direct, ...(reply.errors ? { errors: reply.errors } : {}), ...(reply.streamed ? { streamed: reply.streamed } : {}) };
    } finally {
      this.running--;
      this.streaming = null;
    }
  }

  /** A decoupled response of the running batch, from the calls channel. */
  private streamed(response: StreamedResponse): void {
    const streaming = this.streaming;
    if (!streaming) return;
    streaming.count++;
    streaming.deliver(response);
    streaming.wake?.();
  }

  /**
   * Releases the runtime session on the worker, then stops the thread. The caller (the
   * scheduler's stop) runs this only once no batch is running: stopping a worker thread while
   * onnxruntime-node is inside a native run aborts the whole process ("terminate called after
   * throwing an instance of 'Napi::Error'", exit 134), so a thread is never stopped mid-run.
   */
  async close(): Promise<void> {
    try {
      await this.pool.run({ op: 'unload' });
    } finally {
      await this.pool.close();
      this.calls?.close();
    }
  }
}

/**
 * Listens on BroadcastChannel `name` for the worker's calls to other models (model-calls.ts on
 * the worker's side) and answers each with its id; a decoupled model's responses on the same
 * channel go to `streamed`. A BroadcastChannel rather than a MessagePort
 * because piscina offers no way to transfer a port in workerData; a name per instance keeps
 * instances apart.
 */
function answerCalls(name: string, caller: ModelCaller, streamed: (r: StreamedResponse) => void): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  channel.unref();
  channel.onmessage = (event) => {
    const message = (event as { data: ModelCallMessage }).data;
    if ('response' in message) {
      streamed(message.response);
      return;
    }
    if (!('request' in message)) return;
    caller(message.request).then(
      (result) => channel.postMessage({ id: message.id, result } satisfies ModelCallMessage),
      (err: unknown) => channel.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) } satisfies ModelCallMessage),
    );
  };
  return channel;
}

/**
 * Whether a task goes packed with msgpackr (src/workers/descriptor-codec.ts) rather than as a
 * plain object: a task with many records (gathered parts, direct outputs) is 1.5-1.7x as fast to
 * send through piscina packed, while a small one is about 2 µs slower (bench/descriptor-codec.ts,
 * docs/architecture.md). A task that moves buffers stays plain: packing would copy their bytes.
 */
function packs(task: RunTask, transferList: readonly ArrayBuffer[]): boolean {
  if (transferList.length > 0) return false;
  return (task.direct?.length ?? 0) > 0 || task.inputs.some(isGatheredTensor);
}
