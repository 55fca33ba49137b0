/**
 * The scheduler of one model version. Requests wait in a priority queue; whenever an instance
 * is free, batch-decision says how many to send (with dynamic_batching) or sends one (without);
 * the batch is written into the instance pool's ring slot, run, and split back per request.
 * So batches form exactly when an instance can take one, and grow with the load.
 */
import { serverError, ServerError } from '../errors.ts';
import { assembleBatch } from './batch-assembly.ts';
import { decideBatch, type BatchPolicy, type PendingView } from './batch-decision.ts';
import { planDirectOutputs, splitBatch } from './batch-split.ts';
import type { ModelConfig } from '../model-config/index.ts';
import type { InferOutput, InferRequest, InferResponse, TensorSink } from '../inference/index.ts';
import type { InstancePool } from '../instance/index.ts';
import type { FailureReason, ModelStatistics } from '../observability/index.ts';
import { RequestQueue, type QueueItem } from './request-queue.ts';
import type { RequestTrace } from '../observability/index.ts';
import type { Scheduler } from './scheduler.ts';
import type { TraceSampler } from '../observability/index.ts';

interface Pending extends QueueItem, PendingView {
  readonly request: InferRequest;
  readonly receivedNs: bigint;
  readonly wanted: ReadonlySet<string> | null;
  /** Outputs to hand to a sink (a client's shared-memory region), by name. */
  readonly sinks: ReadonlyMap<string, TensorSink> | undefined;
  /** Null unless the request was sampled for tracing. */
  readonly trace: RequestTrace | null;
  readonly resolve: (r: InferResponse) => void;
  readonly reject: (e: Error) => void;
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A request parameter that must be a non-negative integer when present. */
function intParameter(request: InferRequest, name: string): number | undefined {
  const v = request.parameters[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw serverError('BAD_PARAMETER', `request parameter '${name}' must be a non-negative integer`);
  }
  return v;
}

export class BatchScheduler implements Scheduler {
  private readonly queue: RequestQueue<Pending>;
  private readonly policy: BatchPolicy;
  private readonly peekLimit: number;
  private timer: NodeJS.Timeout | null = null;
  private soon = false;
  private timerAtUs = Infinity;
  private accepted = 0;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  /** With preserve_ordering, the delivery of the latest request; each waits for the one before. */
  private lastDelivery: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: ModelConfig,
    readonly version: number,
    private readonly pools: readonly InstancePool[],
    readonly stats: ModelStatistics,
    private readonly tracer: TraceSampler | null = null,
  ) {
    const db = config.dynamicBatching;
    this.queue = new RequestQueue<Pending>(db);
    this.policy = {
      batching: db !== null,
      maxBatchSize: Math.max(1, config.maxBatchSize),
      preferredBatchSizes: db?.preferredBatchSizes ?? [],
      maxQueueDelayUs: db?.maxQueueDelayUs ?? 0,
    };
    this.peekLimit = db ? this.policy.maxBatchSize + 1 : 1;
  }

  enqueue(request: InferRequest): Promise<InferResponse> {
    if (this.stopping) return Promise.reject(serverError('SERVER_CLOSING'));
    const receivedNs = process.hrtime.bigint();
    const now = Number(receivedNs / 1000n);
    const db = this.config.dynamicBatching;
    const { level, deadlineUs } = db
      ? this.queue.placement(intParameter(request, 'priority'), intParameter(request, 'timeout'), now)
      : { level: 1, deadlineUs: Infinity };
    const trace = this.tracer !== null ? this.tracer.sample(this.config.name, this.version, request.id) : null;
    let pending!: Pending;
    const done = new Promise<InferResponse>((resolve, reject) => {
      pending = {
        request,
        receivedNs,
        enqueuedUs: now,
        deadlineUs,
        level,
        rows: this.config.maxBatchSize > 0 ? request.inputs[0]?.shape[0] ?? 1 : 1,
        shapeKey: this.shapeKey(request),
        wanted: request.outputs ? new Set(request.outputs.map((o) => o.name)) : null,
        sinks: request.outputs?.some((o) => o.sink) ? new Map(request.outputs.filter((o) => o.sink).map((o) => [o.name, o.sink!])) : undefined,
        trace,
        resolve,
        reject,
      };
    });
    if (trace) traceQueued(trace, request, receivedNs);
    try {
      this.queue.push(pending); // throws QUEUE_FULL before anything is accepted
    } catch (err) {
      trace?.end(process.hrtime.bigint());
      throw err;
    }
    this.accepted++;
    const settled = done.finally(() => this.onSettled());
    this.scheduleSoon();
    if (!db?.preserveOrdering) return settled;
    const previous = this.lastDelivery;
    const delivered = previous.then(() => settled);
    this.lastDelivery = delivered.catch(() => {});
    return delivered;
  }

  inflightCount(): number {
    return this.accepted;
  }

  /** Requests waiting in the queue, not yet handed to an instance (nv_inference_pending_request_count). */
  pendingCount(): number {
    return this.queue.size;
  }

  /** Refuses new requests, lets every accepted one finish, then stops the instances. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.accepted > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.pools.map((p) => p.close()));
  }

  /** The pools (for tests and statistics). */
  get instancePools(): readonly InstancePool[] {
    return this.pools;
  }

  private onSettled(): void {
    this.accepted--;
    if (this.accepted === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Requests batch together only with equal keys: the same inputs with the same non-batch dims. */
  private shapeKey(request: InferRequest): string {
    if (!this.config.dynamicBatching) return '';
    let key = '';
    for (const input of request.inputs) key += `${input.name}:${input.shape.slice(1).join(',')};`;
    return key;
  }

  /**
   * Schedules at the end of this event-loop turn rather than now: requests whose bytes arrived
   * in the same poll of the sockets then share one batch, instead of the first going alone.
   */
  private scheduleSoon(): void {
    if (this.soon) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      this.schedule();
    });
  }

  /** Sends batches while instances are free and the decision says so; arms the timer otherwise. */
  private schedule(): void {
    const now = nowUs();
    for (const late of this.queue.expire(now)) {
      const doneNs = process.hrtime.bigint();
      this.stats.requestFailed(late.receivedNs, doneNs, 'REJECTED');
      late.trace?.end(doneNs);
      late.reject(serverError('REQUEST_TIMEOUT'));
    }
    let waitUs = Infinity;
    while (this.queue.size > 0) {
      const pool = this.freePool();
      if (!pool) break;
      const decision = decideBatch(this.queue.peek(this.peekLimit), now, this.policy);
      if ('waitUs' in decision) {
        waitUs = decision.waitUs;
        break;
      }
      if ('idle' in decision) break;
      void this.dispatch(pool, this.queue.take(decision.send));
    }
    const deadline = this.queue.size > 0 ? this.queue.nextDeadlineUs() - now : Infinity;
    this.arm(Math.min(waitUs, deadline));
  }

  private arm(delayUs: number): void {
    if (!Number.isFinite(delayUs)) return;
    const at = nowUs() + delayUs;
    if (this.timer && this.timerAtUs <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAtUs = at;
    // setTimeout counts whole milliseconds, so sub-millisecond delays round up to 1 ms.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAtUs = Infinity;
      this.schedule();
    }, Math.max(1, Math.ceil(delayUs / 1000)));
  }

  private freePool(): InstancePool | null {
    let best: InstancePool | null = null;
    for (const p of this.pools) {
      if (p.free > 0 && (!best || p.free / p.count > best.free / best.count)) best = p;
    }
    return best;
  }

  private async dispatch(pool: InstancePool, batch: Pending[]): Promise<void> {
    const batchStartNs = process.hrtime.bigint();
    const slot = pool.ring.acquire();
    const slotBytes = slot >= 0 ? pool.ring.bytes(slot) : null;
    const rows = batch.map((p) => p.rows);
    // A failure while the worker runs the batch is the model's (BACKEND); elsewhere it is OTHER.
    let reason: FailureReason = 'OTHER';
    try {
      const assembled = assembleBatch(this.config, batch.map((p) => p.request.inputs), slotBytes);
      if (slot >= 0) pool.ring.publish(slot);
      const assembledNs = process.hrtime.bigint();
      const names = batch.some((p) => p.wanted === null)
        ? this.config.outputs.map((t) => t.name)
        : this.config.outputs.map((t) => t.name).filter((n) => batch.some((p) => p.wanted!.has(n)));
      const wanted = batch.map((p) => p.wanted);
      const sinks = batch.map((p) => p.sinks);
      // Outputs into client regions are written by the worker itself (as their inputs are read).
      const plan = planDirectOutputs(this.config, names, rows, wanted, sinks);
      reason = 'BACKEND';
      const result = await pool.run(slot, assembled.inputs, names, plan.direct.length > 0 ? { direct: plan.direct, writtenOnly: plan.writtenOnly } : {});
      reason = 'OTHER';
      const splitStartNs = process.hrtime.bigint();
      // Each failure belongs to one request, which its regions report when it settles.
      for (const f of result.direct.failedReads) assembled.sources[f.source].failed(f.reason);
      result.direct.writes.forEach((outcome, k) => plan.sinks[k].settle(outcome));
      const outputs = splitBatch(this.config, result.outputs, slotBytes, rows, wanted, sinks, plan.delivered);
      const doneNs = process.hrtime.bigint();
      const inputNs = Number(assembledNs - batchStartNs) + result.timings.inputNs;
      const outputNs = result.timings.outputNs + Number(doneNs - splitStartNs);
      const batchSize = rows.reduce((a, b) => a + b, 0);
      this.stats.batchExecuted(batchSize, inputNs, result.timings.inferNs, outputNs);
      this.stats.instanceExecuted(pool.placement.group, pool.placement.device, result.instance, batchSize);
      batch.forEach((p, r) => {
        this.stats.requestSucceeded({
          receivedNs: p.receivedNs,
          batchStartNs,
          computeInputNs: inputNs,
          computeInferNs: result.timings.inferNs,
          computeOutputNs: outputNs,
          doneNs,
        }, this.config.maxBatchSize > 0 ? p.rows : 1);
        if (p.trace) traceComputed(p.trace, batchStartNs, inputNs, outputNs, doneNs, outputs[r]);
        p.resolve({ id: p.request.id, modelName: this.config.name, modelVersion: this.version, outputs: outputs[r] });
      });
    } catch (err) {
      const failure = err instanceof ServerError ? err : serverError('EXECUTION_FAILED', this.config.name, (err as Error).message);
      const doneNs = process.hrtime.bigint();
      for (const p of batch) {
        this.stats.requestFailed(p.receivedNs, doneNs, reason);
        if (p.trace) {
          p.trace.stamp('COMPUTE_START', batchStartNs);
          p.trace.end(doneNs);
        }
        p.reject(failure);
      }
    } finally {
      // The worker's task has settled (answered, failed or died): nothing writes the slot now.
      if (slot >= 0) pool.ring.release(slot);
      this.schedule();
    }
  }
}

/** REQUEST_START, QUEUE_START, and with TENSORS the inputs, of a sampled request. */
function traceQueued(trace: RequestTrace, request: InferRequest, receivedNs: bigint): void {
  trace.stamp('REQUEST_START', receivedNs);
  if (trace.tensors) trace.queueInputs(request.inputs);
  trace.stamp('QUEUE_START', process.hrtime.bigint());
}

/**
 * The compute instants of a sampled request, derived from the batch's start and the durations
 * the statistics count: input ends `inputNs` after the start (assembly here plus the worker's
 * copy), output starts `outputNs` before the end (the worker's writes plus the split here). In
 * between lie the run and the two trips to the worker. The trace thus agrees with the statistics.
 */
function traceComputed(trace: RequestTrace, startNs: bigint, inputNs: number, outputNs: number, endNs: bigint, outputs: readonly InferOutput[]): void {
  trace.stamp('COMPUTE_START', startNs);
  trace.stamp('COMPUTE_INPUT_END', startNs + BigInt(Math.round(inputNs)));
  trace.stamp('COMPUTE_OUTPUT_START', endNs - BigInt(Math.round(outputNs)));
  trace.stamp('COMPUTE_END', endNs);
  if (trace.tensors) trace.backendOutputs(outputs);
  trace.end(process.hrtime.bigint());
}
