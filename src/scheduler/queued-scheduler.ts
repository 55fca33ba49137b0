/**
 * What every queueing scheduler kind shares: accepting a request (its queue entry, trace and
 * accounting), withdrawing a cancelled one from the queue, sending a payload to an instance, and
 * stopping. A kind decides where a request waits and when batches leave (`schedule`).
 */
import { serverError, type ServerError } from '../errors.ts';
import type { EnqueueOptions, InferRequest, InferResponse } from '../inference/index.ts';
import type { InstanceSet, ModelInstance } from '../instance/index.ts';
import type { ModelConfig } from '../model-config/index.ts';
import type { ModelStatistics, RequestTrace, TraceSampler } from '../observability/index.ts';
import { runPayload, type QueuedRequest } from './payload.ts';
import { RequestQueue } from './request-queue.ts';
import type { Scheduler } from './scheduler.ts';

/** The scheduler's clock and timer, injected so that component tests need no real waits. */
export interface SchedulerClock {
  /** Microseconds on a monotonic clock. */
  nowUs(): number;
  /** Calls `fn` once after `delayUs`; the returned function cancels it. */
  after(delayUs: number, fn: () => void): () => void;
}

export const realClock: SchedulerClock = {
  nowUs: () => Number(process.hrtime.bigint() / 1000n),
  after(delayUs, fn) {
    // setTimeout counts whole milliseconds, so sub-millisecond delays round up to 1 ms.
    const timer = setTimeout(fn, Math.max(1, Math.ceil(delayUs / 1000)));
    return () => clearTimeout(timer);
  },
};

/** Where a request waits: its priority level and its deadline (µs on the scheduler's clock). */
export interface Placement {
  readonly level: number;
  readonly deadlineUs: number;
}

export abstract class QueuedScheduler implements Scheduler {
  protected readonly queue: RequestQueue<QueuedRequest>;
  private accepted = 0;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly config: ModelConfig,
    readonly version: number,
    /** The version's instances (tests address one by name). */
    readonly instances: InstanceSet,
    readonly stats: ModelStatistics,
    private readonly tracer: TraceSampler | null = null,
    protected readonly clock: SchedulerClock = realClock,
  ) {
    this.queue = new RequestQueue<QueuedRequest>(config.dynamicBatching);
  }

  /** Where `request` waits; may throw a ServerError for a bad scheduling parameter. */
  protected abstract place(request: InferRequest, nowUs: number): Placement;
  /** Called after a request joined the queue. */
  protected abstract onQueued(): void;
  /** Sends what may leave the queue now to free instances. */
  protected abstract schedule(): void;

  /** Requests batch together only with equal keys; '' for a kind that never batches. */
  protected shapeKey(_request: InferRequest): string {
    return '';
  }

  /** How the answer reaches the caller; a kind that keeps response order overrides it. */
  protected deliver(settled: Promise<InferResponse>): Promise<InferResponse> {
    return settled;
  }

  /** Releases what the kind holds besides instances (timers). */
  protected dispose(): void {}

  enqueue(request: InferRequest, options: EnqueueOptions = {}): Promise<InferResponse> {
    const { signal } = options;
    if (this.stopping) return Promise.reject(serverError('SERVER_CLOSING'));
    const receivedNs = process.hrtime.bigint();
    if (signal?.aborted) {
      this.stats.requestFailed(receivedNs, receivedNs, 'CANCELED');
      return Promise.reject(serverError('REQUEST_CANCELLED'));
    }
    const now = this.clock.nowUs();
    const { level, deadlineUs } = this.place(request, now);
    const trace = this.tracer !== null ? this.tracer.sample(this.config.name, this.version, request.id) : null;
    let pending!: QueuedRequest;
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
    const onAbort = signal ? () => this.cancel(pending) : null;
    if (onAbort) signal!.addEventListener('abort', onAbort, { once: true });
    const settled = done.finally(() => {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      this.onSettled();
    });
    this.onQueued();
    return this.deliver(settled);
  }

  inflightCount(): number {
    return this.accepted;
  }

  /** Requests waiting in the queue, not yet handed to an instance (nv_inference_pending_request_count). */
  pendingCount(): number {
    return this.queue.size;
  }

  /** Resolves the next time no request is in flight (now, if none is); takes new ones meanwhile. */
  idle(): Promise<void> {
    if (this.accepted === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new requests, lets every accepted one finish, then stops the instances. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.idle();
    this.dispose();
    await this.instances.close();
  }

  /**
   * Answers every request still waiting in the queue with `error` (the server's exit timeout
   * has passed); batches already at an instance run to the end, since a native run cannot be
   * interrupted without tearing the process down.
   */
  failQueued(error: ServerError): void {
    const waiting = this.queue.take(this.queue.size);
    const doneNs = process.hrtime.bigint();
    for (const pending of waiting) {
      this.stats.requestFailed(pending.receivedNs, doneNs, 'REJECTED');
      pending.trace?.end(doneNs);
      pending.reject(error);
    }
  }

  /** Runs `batch` on the free `instance`, and schedules again once it is done. */
  protected dispatch(instance: ModelInstance, batch: readonly QueuedRequest[]): void {
    void runPayload(this, instance, batch).then(() => this.schedule());
  }

  /** A request whose caller gave up: withdrawn if it still waits; a running one finishes. */
  private cancel(pending: QueuedRequest): void {
    if (!this.queue.remove(pending)) return;
    const doneNs = process.hrtime.bigint();
    this.stats.requestFailed(pending.receivedNs, doneNs, 'CANCELED');
    pending.trace?.end(doneNs);
    pending.reject(serverError('REQUEST_CANCELLED'));
  }

  private onSettled(): void {
    this.accepted--;
    if (this.accepted === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

/** REQUEST_START, QUEUE_START, and with TENSORS the inputs, of a sampled request. */
function traceQueued(trace: RequestTrace, request: InferRequest, receivedNs: bigint): void {
  trace.stamp('REQUEST_START', receivedNs);
  if (trace.tensors) trace.queueInputs(request.inputs);
  trace.stamp('QUEUE_START', process.hrtime.bigint());
}
