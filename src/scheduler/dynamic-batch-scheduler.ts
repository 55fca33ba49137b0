/**
 * The dynamic batcher (dynamic_batching in the config). Requests wait in a priority queue with
 * per-level policies; whenever an instance is free, batch-decision says how many to send or how
 * long to wait for more. So batches form exactly when an instance can take one, and grow with
 * the load.
 */
import { quote, serverError } from '../errors.ts';
import type { InferRequest, InferResponse } from '../inference/index.ts';
import type { InstanceSet } from '../instance/index.ts';
import type { DynamicBatching, ModelConfig } from '../model-config/index.ts';
import type { ModelStatistics, TraceSampler } from '../observability/index.ts';
import { decideBatch, type BatchPolicy } from './batch-decision.ts';
import { QueuedScheduler, realClock, type Placement, type SchedulerClock } from './queued-scheduler.ts';

/** A request parameter that must be a non-negative integer when present. */
function intParameter(request: InferRequest, name: string): number | undefined {
  const v = request.parameters[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw serverError('BAD_PARAMETER', `request parameter '${quote(name)}' must be a non-negative integer`);
  }
  return v;
}

export class DynamicBatchScheduler extends QueuedScheduler {
  private readonly batching: DynamicBatching;
  private readonly policy: BatchPolicy;
  private cancelTimer: (() => void) | null = null;
  private timerAtUs = Infinity;
  private soon = false;
  /** With preserve_ordering, the delivery of the latest request; each waits for the one before. */
  private lastDelivery: Promise<unknown> = Promise.resolve();

  constructor(config: ModelConfig, version: number, instances: InstanceSet, stats: ModelStatistics, tracer: TraceSampler | null = null, clock: SchedulerClock = realClock) {
    super(config, version, instances, stats, tracer, clock);
    if (!config.dynamicBatching) throw new Error(`model '${config.name}' has no dynamic_batching`);
    this.batching = config.dynamicBatching;
    this.policy = {
      batching: true,
      maxBatchSize: Math.max(1, config.maxBatchSize),
      preferredBatchSizes: this.batching.preferredBatchSizes,
      maxQueueDelayUs: this.batching.maxQueueDelayUs,
    };
  }

  protected place(request: InferRequest, nowUs: number): Placement {
    return this.queue.placement(intParameter(request, 'priority'), intParameter(request, 'timeout'), nowUs);
  }

  /** The same inputs with the same non-batch dims. */
  protected override shapeKey(request: InferRequest): string {
    let key = '';
    for (const input of request.inputs) key += `${input.name}:${input.shape.slice(1).join(',')};`;
    return key;
  }

  protected override deliver(settled: Promise<InferResponse>): Promise<InferResponse> {
    if (!this.batching.preserveOrdering) return settled;
    const delivered = this.lastDelivery.then(() => settled);
    this.lastDelivery = delivered.catch(() => {});
    return delivered;
  }

  /**
   * Schedules at the end of this event-loop turn rather than now: requests whose bytes arrived
   * in the same poll of the sockets then share one batch, instead of the first going alone.
   */
  protected onQueued(): void {
    if (this.soon) return;
    this.soon = true;
    setImmediate(() => {
      this.soon = false;
      this.schedule();
    });
  }

  /** Sends batches while instances are free and the decision says so; arms the timer otherwise. */
  protected schedule(): void {
    const now = this.clock.nowUs();
    for (const late of this.queue.expire(now)) {
      const doneNs = process.hrtime.bigint();
      this.stats.requestFailed(late.receivedNs, doneNs, 'REJECTED');
      late.trace?.end(doneNs);
      late.reject(serverError('REQUEST_TIMEOUT'));
    }
    let waitUs = Infinity;
    while (this.queue.size > 0) {
      const instance = this.instances.pickFree();
      if (!instance) break;
      const decision = decideBatch(this.queue.peek(this.policy.maxBatchSize + 1), now, this.policy);
      if ('waitUs' in decision) {
        waitUs = decision.waitUs;
        break;
      }
      if ('idle' in decision) break;
      this.dispatch(instance, this.queue.take(decision.send));
    }
    const deadline = this.queue.size > 0 ? this.queue.nextDeadlineUs() - now : Infinity;
    this.arm(Math.min(waitUs, deadline));
  }

  protected override dispose(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  /** Keeps one timer, for the earliest moment the queue needs another look. */
  private arm(delayUs: number): void {
    if (!Number.isFinite(delayUs)) return;
    const at = this.clock.nowUs() + delayUs;
    if (this.cancelTimer && this.timerAtUs <= at) return;
    this.cancelTimer?.();
    this.timerAtUs = at;
    this.cancelTimer = this.clock.after(delayUs, () => {
      this.cancelTimer = null;
      this.timerAtUs = Infinity;
      this.schedule();
    });
  }
}
