import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideBatch, type BatchPolicy, type PendingView } from '../../src/scheduler/batch-decision.ts';

const policy = (over: Partial<BatchPolicy> = {}): BatchPolicy => ({
  batching: true, maxBatchSize: 8, preferredBatchSizes: [], maxQueueDelayUs: 0, ...over,
});
/** Requests of the given row counts, all enqueued at `at` µs with the same shapes. */
const queue = (rows: number[], at = 0, key = 'a'): PendingView[] => rows.map((r) => ({ rows: r, shapeKey: key, enqueuedUs: at }));

const cases: { name: string; pending: PendingView[]; now?: number; policy: BatchPolicy; expect: ReturnType<typeof decideBatch> }[] = [
  { name: 'is idle with an empty queue', pending: [], policy: policy(), expect: { idle: true } },
  { name: 'sends one request at a time without dynamic batching', pending: queue([1, 1, 1]), policy: policy({ batching: false }), expect: { send: 1 } },
  { name: 'sends everything pending at once when there is no queue delay', pending: queue([1, 2, 1]), policy: policy(), expect: { send: 3 } },
  { name: 'never exceeds max_batch_size', pending: queue([3, 3, 3]), policy: policy(), expect: { send: 2 } },
  { name: 'sends a full batch at once even with a queue delay', pending: queue([4, 4, 1]), policy: policy({ maxQueueDelayUs: 1_000_000 }), expect: { send: 2 } },
  { name: 'waits out the queue delay for a batch that can still grow', pending: queue([1, 1], 100), now: 400, policy: policy({ maxQueueDelayUs: 1000 }), expect: { waitUs: 700 } },
  { name: 'sends when the oldest request has waited the queue delay', pending: queue([1, 1], 100), now: 1100, policy: policy({ maxQueueDelayUs: 1000 }), expect: { send: 2 } },
  { name: 'sends as soon as a preferred size is reached', pending: queue([2, 2]), policy: policy({ preferredBatchSizes: [4], maxQueueDelayUs: 1_000_000 }), expect: { send: 2 } },
  { name: 'sends the largest preferred prefix when the batch cannot grow', pending: queue([2, 2, 2, 4]), policy: policy({ preferredBatchSizes: [4], maxQueueDelayUs: 1_000_000 }), expect: { send: 2 } },
  { name: 'does not mix requests whose shapes differ', pending: [...queue([1, 1]), ...queue([1], 0, 'b'), ...queue([1])], policy: policy({ maxQueueDelayUs: 1_000_000 }), expect: { send: 2 } },
  { name: 'still sends a lone request larger than the batch limit', pending: queue([9]), policy: policy(), expect: { send: 1 } },
];

describe('batch decision', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(decideBatch(c.pending, c.now ?? 0, c.policy), c.expect);
    });
  }
});
