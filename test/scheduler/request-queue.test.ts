import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestQueue, type QueueItem } from '../../src/scheduler/request-queue.ts';
import type { DynamicBatching, QueuePolicy } from '../../src/model-config/dynamic-batching-config.ts';
import { ServerError } from '../../src/errors.ts';

const basePolicy: QueuePolicy = { timeoutAction: 'REJECT', defaultTimeoutUs: 0, allowTimeoutOverride: false, maxQueueSize: 0 };
const batching = (over: Partial<DynamicBatching> = {}): DynamicBatching => ({
  preferredBatchSizes: [], maxQueueDelayUs: 0, preserveOrdering: false, priorityLevels: 0, defaultPriorityLevel: 1,
  defaultQueuePolicy: basePolicy, priorityQueuePolicy: new Map(), ...over,
});

interface Item extends QueueItem { id: string }

function add(q: RequestQueue<Item>, id: string, priority?: number, timeoutUs?: number, now = 0): Item {
  const item = { id, ...q.placement(priority, timeoutUs, now) };
  q.push(item);
  return item;
}

describe('request queue', () => {
  it('serves higher priority levels first, each in arrival order', () => {
    const q = new RequestQueue<Item>(batching({ priorityLevels: 3, defaultPriorityLevel: 2 }));
    add(q, 'low', 3);
    add(q, 'default-a');
    add(q, 'high', 1);
    add(q, 'default-b', 0);
    assert.deepEqual(q.peek(10).map((i) => i.id), ['high', 'default-a', 'default-b', 'low']);
    assert.deepEqual(q.take(2).map((i) => i.id), ['high', 'default-a']);
    assert.equal(q.size, 2);
  });

  it('puts an out-of-range priority on the default level', () => {
    const q = new RequestQueue<Item>(batching({ priorityLevels: 2, defaultPriorityLevel: 2 }));
    assert.equal(q.placement(7, undefined, 0).level, 2);
  });

  it('refuses a request when its level is full, with Triton\'s message', () => {
    const q = new RequestQueue<Item>(batching({ defaultQueuePolicy: { ...basePolicy, maxQueueSize: 2 } }));
    add(q, 'a');
    add(q, 'b');
    assert.throws(() => add(q, 'c'), (err: unknown) => err instanceof ServerError && err.httpStatus === 503 && /Exceeds maximum queue size/.test(err.message));
    assert.equal(q.size, 2);
  });

  it('rejects requests past their deadline under REJECT', () => {
    const q = new RequestQueue<Item>(batching({ defaultQueuePolicy: { ...basePolicy, defaultTimeoutUs: 100 } }));
    add(q, 'early', undefined, undefined, 0);
    add(q, 'later', undefined, undefined, 500);
    assert.deepEqual(q.expire(200).map((i) => i.id), ['early']);
    assert.deepEqual(q.peek(10).map((i) => i.id), ['later']);
    assert.equal(q.nextDeadlineUs(), 600);
  });

  it('moves requests past their deadline behind all others under DELAY', () => {
    const q = new RequestQueue<Item>(batching({ defaultQueuePolicy: { ...basePolicy, timeoutAction: 'DELAY', defaultTimeoutUs: 100 } }));
    add(q, 'old', undefined, undefined, 0);
    add(q, 'new', undefined, undefined, 150);
    assert.deepEqual(q.expire(120), []);
    assert.deepEqual(q.peek(10).map((i) => i.id), ['new', 'old']);
    assert.equal(q.size, 2);
  });

  it('lets a request set its own timeout only where the policy allows', () => {
    const strict = new RequestQueue<Item>(batching({ defaultQueuePolicy: { ...basePolicy, defaultTimeoutUs: 1000 } }));
    assert.equal(strict.placement(undefined, 50, 0).deadlineUs, 1000);
    const lenient = new RequestQueue<Item>(batching({ defaultQueuePolicy: { ...basePolicy, defaultTimeoutUs: 1000, allowTimeoutOverride: true } }));
    assert.equal(lenient.placement(undefined, 50, 0).deadlineUs, 50);
    const none = new RequestQueue<Item>(batching());
    assert.equal(none.placement(undefined, undefined, 0).deadlineUs, Infinity);
  });

  it('withdraws one request wherever it waits, and says when it was no longer there', () => {
    const q = new RequestQueue<Item>(batching({ priorityLevels: 2, defaultPriorityLevel: 2, priorityQueuePolicy: new Map([[1, { ...basePolicy, timeoutAction: 'DELAY' as const, defaultTimeoutUs: 10 }]]) }));
    const a = add(q, 'a');
    const b = add(q, 'b');
    const late = add(q, 'late', 1);
    q.expire(10); // `late` moves to the delayed queue
    assert.equal(q.remove(b), true);
    assert.equal(q.remove(late), true);
    assert.equal(q.remove(b), false);
    assert.equal(q.size, 1);
    assert.deepEqual(q.take(5), [a]);
    assert.equal(q.remove(a), false);
  });
});
