/**
 * Per model version statistics, in the shape of Triton's statistics extension: request
 * durations split into queue, compute input, compute infer and compute output; success and
 * failure counts; executions; and per batch size compute durations. All durations in ns.
 */

export interface Duration {
  count: number;
  ns: number;
}

interface BatchStats {
  readonly batch_size: number;
  readonly compute_input: Duration;
  readonly compute_infer: Duration;
  readonly compute_output: Duration;
}

interface InstanceStats {
  readonly group: string;
  readonly device: string;
  /** The instance's name ('<group>_<k>'). */
  readonly instance: string;
  executions: number;
  inferences: number;
}

/**
 * Why an accepted request failed, as Triton's `reason` label of nv_inference_request_failure:
 * REJECTED its queue timeout expired, CANCELED it was cancelled, BACKEND the model run (or its
 * worker) failed, OTHER anything else on the way. Requests refused before they were queued
 * (bad input, full queue, server closing) are not failures of the model, as in Triton.
 */
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

export const FAILURE_REASONS: readonly FailureReason[] = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'];

/**
 * Sees each successful request's durations (ns) as they are counted. Only the latency
 * summaries and histograms of --metrics-config need it; without them none is set, and counting
 * costs one null check.
 */
export interface LatencyObserver {
  requestSucceeded(requestNs: number, queueNs: number, inputNs: number, inferNs: number, outputNs: number): void;
}

/** One request's timeline, in ns on the process.hrtime clock. */
interface RequestTimes {
  readonly receivedNs: bigint;
  readonly batchStartNs: bigint;
  readonly computeInputNs: number;
  readonly computeInferNs: number;
  readonly computeOutputNs: number;
  readonly doneNs: bigint;
}

const duration = (): Duration => ({ count: 0, ns: 0 });
const add = (d: Duration, ns: number) => {
  d.count++;
  d.ns += Math.max(0, Math.round(ns));
};

export class ModelStatistics {
  /** Milliseconds since the epoch of the last successful inference, 0 before any (failures leave it, as in Triton). */
  lastInference = 0;
  /** Batch elements inferred (a request of batch 4 counts 4). */
  inferenceCount = 0;
  /** Model runs. */
  executionCount = 0;
  readonly success = duration();
  readonly fail = duration();
  readonly queue = duration();
  readonly computeInput = duration();
  readonly computeInfer = duration();
  readonly computeOutput = duration();
  readonly cacheHit = duration();
  readonly cacheMiss = duration();
  /** Whether the version answers from the response cache (its cache metrics are reported then). */
  cacheEnabled = false;
  /** Failed requests by reason; they add up to `fail.count`. */
  readonly failReasons: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
  /** While true (a version's warmup), nothing is counted: Triton's statistics leave warmup out. */
  muted = false;
  private readonly batches = new Map<number, BatchStats>();
  private readonly instances = new Map<string, InstanceStats>();

  constructor(private readonly observer: LatencyObserver | null = null) {}

  /** A request answered with its outputs; `batchSize` is its own number of batch elements. */
  requestSucceeded(t: RequestTimes, batchSize: number): void {
    if (this.muted) return;
    const requestNs = Number(t.doneNs - t.receivedNs);
    const queueNs = Number(t.batchStartNs - t.receivedNs);
    add(this.success, requestNs);
    add(this.queue, queueNs);
    add(this.computeInput, t.computeInputNs);
    add(this.computeInfer, t.computeInferNs);
    add(this.computeOutput, t.computeOutputNs);
    this.inferenceCount += batchSize;
    this.lastInference = Date.now();
    if (this.observer) this.observer.requestSucceeded(requestNs, queueNs, t.computeInputNs, t.computeInferNs, t.computeOutputNs);
  }

  /**
   * A request answered from the response cache: a success, its wait before the lookup as queue
   * time, the lookup as `cache_hit`; not an inference or execution (Triton's accounting).
   */
  cacheHitServed(receivedNs: bigint, lookupStartNs: bigint, doneNs: bigint): void {
    if (this.muted) return;
    add(this.success, Number(doneNs - receivedNs));
    add(this.queue, Number(lookupStartNs - receivedNs));
    add(this.cacheHit, Number(doneNs - lookupStartNs));
    this.lastInference = Date.now();
  }

  /** A request the cache did not have, answered by the model: its lookup and insertion time. */
  cacheMissed(ns: number): void {
    if (this.muted) return;
    add(this.cacheMiss, ns);
    this.success.ns += Math.max(0, Math.round(ns));
  }

  /** A request that was accepted by the scheduler and then failed (timeout, model error). */
  requestFailed(receivedNs: bigint, doneNs: bigint, reason: FailureReason): void {
    if (this.muted) return;
    add(this.fail, Number(doneNs - receivedNs));
    this.failReasons[reason]++;
  }

  /** One model run of `batchSize` elements. */
  batchExecuted(batchSize: number, inputNs: number, inferNs: number, outputNs: number): void {
    if (this.muted) return;
    this.executionCount++;
    let b = this.batches.get(batchSize);
    if (!b) {
      b = { batch_size: batchSize, compute_input: duration(), compute_infer: duration(), compute_output: duration() };
      this.batches.set(batchSize, b);
    }
    add(b.compute_input, inputNs);
    add(b.compute_infer, inferNs);
    add(b.compute_output, outputNs);
  }

  /** A batch ran on instance `instance` (its name, '<group>_<k>') of a group on a device. */
  instanceExecuted(group: string, device: string, instance: string, batchSize: number): void {
    if (this.muted) return;
    const key = `${group}\u0000${device}\u0000${instance}`;
    let s = this.instances.get(key);
    if (!s) {
      s = { group, device, instance, executions: 0, inferences: 0 };
      this.instances.set(key, s);
    }
    s.executions++;
    s.inferences += batchSize;
  }

  /** Executions per instance, grouped by instance group and device (a per-device view). */
  instanceStats(): InstanceStats[] {
    return [...this.instances.values()];
  }

  /** Per batch size figures, smallest size first. */
  batchStats(): BatchStats[] {
    return [...this.batches.values()].sort((a, b) => a.batch_size - b.batch_size);
  }
}
