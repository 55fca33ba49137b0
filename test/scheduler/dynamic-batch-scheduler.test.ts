import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { DynamicBatchScheduler } from '../../src/scheduler/dynamic-batch-scheduler.ts';
import { ModelStatistics } from '../../src/observability/index.ts';
import { FakeClock, fakeConfig, fakeInstances, fakeRequest, outputOf } from '../helpers/fake-instance.ts';

// Component tests: the dynamic batcher over fake instances and a fake clock. A batch finishes
// when the test says so and time moves when the test advances it, so nothing waits on time.
// The batcher schedules at the end of an event-loop turn; `turn()` lets that happen.

function batcher(dynamicBatching: string, maxBatchSize = 8, names = ['g_0']) {
  const { set, instances } = fakeInstances(...names);
  const stats = new ModelStatistics();
  const clock = new FakeClock();
  const scheduler = new DynamicBatchScheduler(fakeConfig(`dynamic_batching { ${dynamicBatching} }`, maxBatchSize), 1, set, stats, null, clock);
  return { scheduler, instances, stats, clock };
}

describe('dynamic batch scheduler', () => {
  it('batches the requests that queued while the instance was busy, never over max_batch_size', async () => {
    const { scheduler, instances: [only], stats } = batcher('', 4);
    const first = scheduler.enqueue(fakeRequest(1));
    await turn();
    const rest = [2, 3, 4, 5, 6, 7].map((v) => scheduler.enqueue(fakeRequest(v)));
    await turn();
    assert.deepEqual(only.runs.map((r) => r.values), [[1]]);
    assert.equal(scheduler.pendingCount(), 6);
    only.runs[0].finish();
    await turn();
    assert.deepEqual(only.runs.map((r) => r.values), [[1], [2, 3, 4, 5]]);
    only.runs[1].finish();
    await turn();
    only.runs[2].finish();
    assert.deepEqual(only.runs.map((r) => r.values), [[1], [2, 3, 4, 5], [6, 7]]);
    assert.deepEqual((await Promise.all([first, ...rest])).map(outputOf), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(stats.batchStats().map((b) => b.batch_size), [1, 2, 4]);
  });

  it('holds a request for max_queue_delay_microseconds so that a later one joins its batch', async () => {
    const { scheduler, instances: [only], clock } = batcher('max_queue_delay_microseconds: 1000');
    const a = scheduler.enqueue(fakeRequest(1));
    await turn();
    assert.equal(only.runs.length, 0);
    clock.advance(999);
    const b = scheduler.enqueue(fakeRequest(2));
    await turn();
    assert.equal(only.runs.length, 0);
    clock.advance(1);
    assert.deepEqual(only.runs.map((r) => r.values), [[1, 2]]);
    only.runs[0].finish();
    assert.deepEqual([outputOf(await a), outputOf(await b)], [1, 2]);
    assert.equal(clock.pending, 0);
  });

  it('sends a batch as soon as it reaches a preferred size, without waiting out the delay', async () => {
    const { scheduler, instances: [only], clock } = batcher('preferred_batch_size: [ 2 ] max_queue_delay_microseconds: 600000000');
    const answers = [1, 2].map((v) => scheduler.enqueue(fakeRequest(v)));
    await turn();
    assert.deepEqual(only.runs.map((r) => r.values), [[1, 2]]);
    only.runs[0].finish();
    assert.deepEqual((await Promise.all(answers)).map(outputOf), [1, 2]);
    assert.equal(clock.nowUs(), 0);
  });

  it('leaves a cancelled request out of the batch it would have joined', async () => {
    const { scheduler, instances: [only], stats, clock } = batcher('max_queue_delay_microseconds: 1000');
    const cancel = new AbortController();
    const a = scheduler.enqueue(fakeRequest(1));
    const b = scheduler.enqueue(fakeRequest(2), { signal: cancel.signal });
    const c = scheduler.enqueue(fakeRequest(3));
    await turn();
    assert.equal(scheduler.pendingCount(), 3);
    cancel.abort();
    await assert.rejects(b, /Request was cancelled/);
    assert.equal(scheduler.pendingCount(), 2);
    clock.advance(1000);
    assert.deepEqual(only.runs.map((r) => r.values), [[1, 3]]);
    only.runs[0].finish();
    assert.deepEqual([outputOf(await a), outputOf(await c)], [1, 3]);
    assert.deepEqual([stats.failReasons.CANCELED, stats.success.count], [1, 2]);
  });

  it('rejects a queued request when its queue timeout passes on the clock', async () => {
    const { scheduler, instances: [only], stats, clock } = batcher('default_queue_policy { default_timeout_microseconds: 500 }');
    const running = scheduler.enqueue(fakeRequest(1));
    await turn();
    const late = scheduler.enqueue(fakeRequest(2));
    await turn();
    assert.equal(scheduler.pendingCount(), 1);
    clock.advance(500);
    await assert.rejects(late, /Request timeout expired/);
    assert.equal(stats.failReasons.REJECTED, 1);
    only.runs[0].finish();
    assert.equal(outputOf(await running), 1);
  });

  it('spreads batches over the instances, each batch on a free one', async () => {
    const { scheduler, instances: [x, y] } = batcher('', 2, ['g_0', 'g_1']);
    const answers = [scheduler.enqueue(fakeRequest(1))];
    await turn();
    answers.push(scheduler.enqueue(fakeRequest(2)), scheduler.enqueue(fakeRequest(3)));
    await turn();
    assert.deepEqual([x.runs.map((r) => r.values), y.runs.map((r) => r.values)], [[[1]], [[2, 3]]]);
    x.runs[0].finish();
    y.runs[0].finish();
    assert.deepEqual((await Promise.all(answers)).map(outputOf), [1, 2, 3]);
  });
});
