/**
 * The instances of one instance group on one device: a piscina pool whose every worker thread
 * holds one onnxruntime session. piscina hands a task to an idle worker, so `count` requests run
 * in parallel and the rest wait in piscina's queue.
 */
import { Piscina } from 'piscina';
import type { WireTensor, WorkerReply, WorkerSetup, WorkerTask } from '../workers/protocol.ts';

// Run the worker from the same kind of file as this module: .ts under tsx, .js once built.
const workerFile = new URL(`../workers/worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export interface RunResult {
  readonly outputs: readonly WireTensor[];
  readonly computeNs: number;
}

export class InstancePool {
  private inflightCount = 0;

  private constructor(
    private readonly pool: Piscina<WorkerTask, WorkerReply>,
    /** Instances (worker threads) in this pool. */
    readonly count: number,
    readonly setup: WorkerSetup,
  ) {}

  /** Starts `count` workers and waits until each has its session; throws the load error. */
  static async create(setup: WorkerSetup, count: number): Promise<InstancePool> {
    const pool = new Piscina<WorkerTask, WorkerReply>({
      filename: workerFile.href,
      workerData: setup,
      minThreads: count,
      maxThreads: count,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      name: 'default',
    });
    const self = new InstancePool(pool, count, setup);
    try {
      const replies = await Promise.all(Array.from({ length: count }, () => pool.run({ op: 'load' })));
      for (const reply of replies) {
        if (!reply.ok) throw new Error(reply.message);
      }
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    return self;
  }

  get inflight(): number {
    return this.inflightCount;
  }

  /** Runs one batch on a free instance. Input buffers are moved to the worker (unusable here after). */
  async run(inputs: readonly WireTensor[], outputs: readonly string[]): Promise<RunResult> {
    const transferList = [...new Set(inputs.map((t) => t.data).filter((d): d is ArrayBuffer => d instanceof ArrayBuffer))];
    this.inflightCount++;
    try {
      const reply = await this.pool.run({ op: 'run', inputs, outputs }, { transferList });
      if (!reply.ok) throw new Error(reply.message);
      if (reply.op !== 'run') throw new Error('worker answered a run with a load reply');
      return { outputs: reply.outputs, computeNs: reply.computeNs };
    } finally {
      this.inflightCount--;
    }
  }

  /** Waits for running tasks to finish, then stops the workers. */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
