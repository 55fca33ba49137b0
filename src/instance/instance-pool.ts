/**
 * The instances of one instance group on one device: a piscina pool whose every worker thread
 * holds one model instance in the model's backend, and the pool's tensor ring. The scheduler hands a batch to a
 * pool only while one of its instances is free, so piscina never queues.
 */
import { Piscina } from 'piscina';
import { TensorRing, type BatchTensor, type DirectOutput } from '../shm/index.ts';
import { backendModuleUrl, type DirectResults, type RunTimings, type WorkerReply, type WorkerSetup, type WorkerTask } from '../workers/index.ts';

// Run the worker from the same kind of file as this module: .ts under tsx, .js once built.
const workerFile = new URL(`../workers/worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export interface RunResult {
  readonly outputs: readonly BatchTensor[];
  readonly timings: RunTimings;
  /** The thread id of the worker (instance) that ran the batch. */
  readonly instance: number;
  /** The worker's reads and writes of client regions. */
  readonly direct: DirectResults;
}

/** What a run may carry besides its inputs and output names. */
export interface RunExtras {
  /** Output rows the worker writes straight into client regions. */
  readonly direct?: readonly DirectOutput[];
  /** Outputs `direct` delivers to every request that wants them (nothing comes back). */
  readonly writtenOnly?: readonly string[];
}

export interface InstancePlacement {
  /** The instance group's name. */
  readonly group: string;
  /** 'CPU' or 'GPU <id>'. */
  readonly device: string;
}

export class InstancePool {
  private inflightCount = 0;

  private constructor(
    private readonly pool: Piscina<WorkerTask, WorkerReply>,
    /** Instances (worker threads) in this pool. */
    readonly count: number,
    readonly ring: TensorRing,
    /** Which instance group, and which device, these instances belong to. */
    readonly placement: InstancePlacement,
  ) {}

  /**
   * Starts `count` workers and waits until each has loaded its instance; throws the load error.
   * `setup.backend` (the config's backend name) is resolved to its module here, before any
   * thread starts, so an unknown backend fails with a reason that names it.
   * The ring has a slot per instance plus one, so a batch can be filled while all others run.
   */
  static async create(setup: Omit<WorkerSetup, 'ring' | 'backendModule'>, count: number, slotBytes: number, group: string): Promise<InstancePool> {
    const backendModule = backendModuleUrl(setup.backend);
    const ring = TensorRing.create(count + 1, slotBytes);
    const pool = new Piscina<WorkerTask, WorkerReply>({
      filename: workerFile.href,
      workerData: { ...setup, backendModule, ring: ring.sab } satisfies WorkerSetup,
      minThreads: count,
      maxThreads: count,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      // Per-task timing histograms cost a little on every batch; the scheduler keeps its own.
      recordTiming: false,
      workerHistogram: false,
    });
    try {
      const replies = await Promise.all(Array.from({ length: count }, () => pool.run({ op: 'load' })));
      for (const reply of replies) {
        if (!reply.ok) throw new Error(reply.message);
      }
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    const device = setup.device.kind === 'gpu' ? `GPU ${setup.device.id}` : 'CPU';
    return new InstancePool(pool, count, ring, { group, device });
  }

  get inflight(): number {
    return this.inflightCount;
  }

  /** Instances not running a batch now. */
  get free(): number {
    return this.count - this.inflightCount;
  }

  /**
   * Runs one batch. `slot` holds the inputs (or -1); moved input buffers are unusable here after.
   * Rejects when the worker reports an error or dies (piscina then starts a replacement, which
   * loads its own session). Either way it settles only once the worker no longer touches the
   * slot or any client region the batch names, so leases may be released then.
   */
  async run(slot: number, inputs: readonly BatchTensor[], outputs: readonly string[], extras: RunExtras = {}): Promise<RunResult> {
    const transferList: ArrayBuffer[] = [];
    for (const t of inputs) {
      const buffer = (t as { buffer?: ArrayBuffer }).buffer;
      if (buffer && !transferList.includes(buffer)) transferList.push(buffer);
    }
    this.inflightCount++;
    try {
      const task: WorkerTask = { op: 'run', slot, inputs, outputs, ...extras };
      const reply = await this.pool.run(task, { transferList });
      if (!reply.ok) throw new Error(reply.message);
      if (reply.op !== 'run') throw new Error('worker answered a run with a load reply');
      return { outputs: reply.outputs, timings: reply.timings, instance: reply.instance, direct: reply.direct };
    } finally {
      this.inflightCount--;
    }
  }

  /** The worker threads (for tests that make one fail). */
  get threads(): readonly { terminate(): Promise<number> }[] {
    return this.pool.threads;
  }

  /** Waits for running tasks to finish, then stops the workers. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
