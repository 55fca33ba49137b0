/**
 * The dynamic batcher's one decision, as a pure function of the queue and the clock: send the
 * first N pending requests now, or wait this many microseconds for more (Triton's rules).
 *
 * A batch is sent when:
 *   - it cannot grow: it reached max_batch_size, or the next request would overflow it or has
 *     other shapes (then the largest prefix of a preferred size goes, if there is one);
 *   - the queue is exhausted and the batch is exactly a preferred size;
 *   - the oldest request has waited max_queue_delay_microseconds (0: never wait).
 */

export interface PendingView {
  /** Batch elements the request brings (its leading dim; 1 for a model without batching). */
  readonly rows: number;
  /** Requests can share a batch only when their keys are equal (input names and non-batch dims). */
  readonly shapeKey: string;
  /** When the request entered the queue, in µs on the scheduler's clock. */
  readonly enqueuedUs: number;
}

export interface BatchPolicy {
  /** False: every request runs alone. */
  readonly batching: boolean;
  readonly maxBatchSize: number;
  /** Ascending. */
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayUs: number;
}

export type Decision = { readonly send: number } | { readonly waitUs: number } | { readonly idle: true };

export function decideBatch(pending: readonly PendingView[], nowUs: number, policy: BatchPolicy): Decision {
  if (pending.length === 0) return { idle: true };
  if (!policy.batching) return { send: 1 };
  const head = pending[0];
  const preferred = new Set(policy.preferredBatchSizes);
  let rows = 0;
  let count = 0;
  let bestPreferred = 0;
  let cannotGrow = false;
  for (const p of pending) {
    if (p.shapeKey !== head.shapeKey || rows + p.rows > policy.maxBatchSize) {
      cannotGrow = count > 0;
      break;
    }
    rows += p.rows;
    count++;
    if (preferred.has(rows)) bestPreferred = count;
    if (rows === policy.maxBatchSize) {
      cannotGrow = true;
      break;
    }
  }
  // A single request larger than max_batch_size never reaches here (refused at validation);
  // still, never answer "send 0".
  if (count === 0) return { send: 1 };
  if (cannotGrow) return { send: bestPreferred || count };
  if (preferred.has(rows)) return { send: count };
  const waited = nowUs - head.enqueuedUs;
  if (policy.maxQueueDelayUs === 0 || waited >= policy.maxQueueDelayUs) return { send: count };
  return { waitUs: policy.maxQueueDelayUs - waited };
}
