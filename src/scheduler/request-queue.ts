/**
 * The dynamic batcher's queue: one FIFO per priority level (1 is the highest), each with its
 * queue policy (size limit, timeout, REJECT or DELAY on timeout), plus a last FIFO for requests
 * whose timeout passed under DELAY. Iteration order is level 1 first, delayed requests last.
 */
import { serverError } from '../errors.ts';
import type { DynamicBatching, QueuePolicy } from '../model-config/index.ts';

export interface QueueItem {
  /** µs on the scheduler's clock; Infinity for no timeout. */
  deadlineUs: number;
  level: number;
}

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  at(i: number): T {
    return this.items[this.head + i];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes every item for which `drop` returns true, keeping order. */
  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      (drop(item) ? removed : kept).push(item);
    }
    if (removed.length > 0) {
      this.items = kept;
      this.head = 0;
    }
    return removed;
  }
}

const NO_POLICY: QueuePolicy = { timeoutAction: 'REJECT', defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 0 };

export class RequestQueue<T extends QueueItem> {
  private readonly levels: Fifo<T>[];
  private readonly delayed = new Fifo<T>();
  private readonly policies: QueuePolicy[];
  private count = 0;

  constructor(private readonly config: DynamicBatching | null) {
    const n = Math.max(1, config?.priorityLevels ?? 1);
    this.levels = Array.from({ length: n }, () => new Fifo<T>());
    this.policies = Array.from({ length: n }, (_, i) => config?.priorityQueuePolicy.get(i + 1) ?? config?.defaultQueuePolicy ?? NO_POLICY);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The level and deadline for a request's `priority` and `timeout` (µs) parameters, as
   * Triton reads them: priority 0 or out of range is the default level; a request timeout
   * counts where the policy allows overrides or sets no default.
   */
  placement(priority: number | undefined, timeoutUs: number | undefined, nowUs: number): { level: number; deadlineUs: number } {
    const n = this.levels.length;
    const level = priority !== undefined && priority >= 1 && priority <= n ? priority : (this.config?.defaultPriorityLevel ?? 1);
    const policy = this.policies[level - 1];
    let timeout = policy.defaultTimeoutUs;
    if (timeoutUs !== undefined && timeoutUs > 0 && (policy.allowTimeoutOverride || timeout === 0)) timeout = timeoutUs;
    return { level, deadlineUs: timeout > 0 ? nowUs + timeout : Infinity };
  }

  /** Adds a request at its level, or throws UNAVAILABLE when that level's queue is full. */
  push(item: T): void {
    const fifo = this.levels[item.level - 1];
    const limit = this.policies[item.level - 1].maxQueueSize;
    if (limit > 0 && fifo.size >= limit) throw serverError('QUEUE_FULL');
    fifo.push(item);
    this.count++;
  }

  /** Up to `limit` requests in the order they would be sent. */
  peek(limit: number): T[] {
    const out: T[] = [];
    for (const fifo of [...this.levels, this.delayed]) {
      for (let i = 0; i < fifo.size && out.length < limit; i++) out.push(fifo.at(i));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Removes the first `n` requests in send order. */
  take(n: number): T[] {
    const out: T[] = [];
    for (const fifo of [...this.levels, this.delayed]) {
      while (out.length < n && fifo.size > 0) out.push(fifo.shift()!);
    }
    this.count -= out.length;
    return out;
  }

  /**
   * Applies timeouts: requests past their deadline are removed and returned under REJECT, or
   * moved behind every other request under DELAY (and then never time out again).
   */
  expire(nowUs: number): T[] {
    const rejected: T[] = [];
    this.levels.forEach((fifo, i) => {
      const late = fifo.removeWhere((item) => item.deadlineUs <= nowUs);
      for (const item of late) {
        if (this.policies[i].timeoutAction === 'DELAY') {
          item.deadlineUs = Infinity;
          this.delayed.push(item);
        } else {
          rejected.push(item);
          this.count--;
        }
      }
    });
    return rejected;
  }

  /** The earliest deadline in the queue, or Infinity. */
  nextDeadlineUs(): number {
    let min = Infinity;
    for (const fifo of this.levels) {
      for (let i = 0; i < fifo.size; i++) min = Math.min(min, fifo.at(i).deadlineUs);
    }
    return min;
  }

  /**
   * Withdraws `item` (a cancelled request) wherever it waits; false when it is no longer queued.
   * A scan of its level, fine for a rare event; the hot paths (push, take) stay O(1).
   */
  remove(item: T): boolean {
    for (const fifo of [this.levels[item.level - 1], this.delayed]) {
      if (fifo.removeWhere((x) => x === item).length > 0) {
        this.count--;
        return true;
      }
    }
    return false;
  }
}
