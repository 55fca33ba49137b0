import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { DynamicBatchScheduler } from '../../src/scheduler/dynamic-batch-scheduler.ts';
import { ModelStatistics } from '../../src/observability/index.ts';
import { ServerError } from '../../src/errors.ts';
import { FakeClock, fakeConfig, fakeInstances, fakeRequest, outputOf } from '../helpers/fake-instance.ts';

// Component tests: the dynamic batcher over fake instances and a fake clock. A batch finishes
// when the test says so and time moves when the test advances it, so nothing waits on time.
// The batcher schedules at the end of an event-loop turn; `turn()` lets that happen.

function batcher(dynamicBatching: string, maxBatchSize = 8, names = ['g_0'], dims = '1') {
  const { set, instances } = fakeInstances(...names);
  const stats = new ModelStatistics();
  const clock = new FakeClock();
  const scheduler = new DynamicBatchScheduler(fakeConfig(`dynamic_batching { ${dynamicBatching} }`, maxBatchSize, dims), 1, set, stats, null, clock);
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

  it('does not batch requests whose variable dims differ', async () => {
    const { scheduler, instances: [only], clock, stats } = batcher('max_queue_delay_microseconds: 1000', 8, ['g_0'], '-1');
    const answers = [[1, 2], [3, 4], [5, 6, 7]].map((row) => scheduler.enqueue(fakeRequest(row)));
    await turn();
    // The odd one behind them means their batch cannot grow: it leaves without waiting out the delay.
    assert.deepEqual(only.runs.map((r) => r.values), [[1, 2, 3, 4]]);
    assert.equal(scheduler.pendingCount(), 1);
    only.runs[0].finish();
    await turn();
    assert.equal(only.runs.length, 1, 'the odd one waits out its own delay');
    clock.advance(1000);
    assert.deepEqual(only.runs.map((r) => r.values), [[1, 2, 3, 4], [5, 6, 7]]);
    only.runs[1].finish();
    const rows = (await Promise.all(answers)).map((r) => [...new Float32Array(r.outputs[0].data as ArrayBuffer)]);
    assert.deepEqual(rows, [[1, 2], [3, 4], [5, 6, 7]]);
    assert.deepEqual(stats.batchStats().map((b) => b.batch_size), [1, 2]);
  });

  describe('queue policies (max_batch_size 1, so one request runs and the rest wait)', () => {
    it('serves a higher priority level first once the instance is free', async () => {
      const { scheduler, instances: [only] } = batcher('priority_levels: 2 default_priority_level: 2', 1);
      const busy = scheduler.enqueue(fakeRequest(0));
      await turn();
      const low = scheduler.enqueue(fakeRequest(1, { priority: 2 }));
      const high = scheduler.enqueue(fakeRequest(2, { priority: 1 }));
      await turn();
      assert.equal(scheduler.pendingCount(), 2);
      only.runs[0].finish();
      await turn();
      only.runs[1].finish();
      await turn();
      only.runs[2].finish();
      assert.deepEqual(only.runs.map((r) => r.values), [[0], [2], [1]]);
      assert.deepEqual((await Promise.all([busy, low, high])).map(outputOf), [0, 1, 2]);
    });

    it('refuses a request with 503 "Exceeds maximum queue size" when the queue is full, and serves the rest', async () => {
      const { scheduler, instances: [only], stats } = batcher('default_queue_policy { max_queue_size: 1 }', 1);
      const busy = scheduler.enqueue(fakeRequest(1));
      await turn();
      const queued = scheduler.enqueue(fakeRequest(2));
      assert.throws(() => scheduler.enqueue(fakeRequest(3)), (err: unknown) => err instanceof ServerError && err.httpStatus === 503 && /Exceeds maximum queue size/.test(err.message));
      assert.equal(scheduler.pendingCount(), 1);
      only.runs[0].finish();
      await turn();
      only.runs[1].finish();
      assert.deepEqual((await Promise.all([busy, queued])).map(outputOf), [1, 2]);
      assert.equal(stats.success.count, 2);
    });

    it("takes a request's own timeout parameter where the policy allows it", async () => {
      const { scheduler, instances: [only], stats, clock } = batcher('default_queue_policy { allow_timeout_override: true default_timeout_microseconds: 600000000 }', 1);
      const busy = scheduler.enqueue(fakeRequest(1));
      await turn();
      const late = scheduler.enqueue(fakeRequest(2, { timeout: 500 }));
      await turn();
      clock.advance(499);
      assert.equal(scheduler.pendingCount(), 1);
      clock.advance(1);
      await assert.rejects(late, /Request timeout expired/);
      assert.equal(stats.failReasons.REJECTED, 1);
      only.runs[0].finish();
      assert.equal(outputOf(await busy), 1);
    });

    it('runs a timed-out request after the others instead under timeout_action DELAY', async () => {
      // Level 1 times out after 500 µs and then waits behind everything; level 2 never times out.
      const { scheduler, instances: [only], stats, clock } = batcher(`
        priority_levels: 2 default_priority_level: 1
        default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 500 }
        priority_queue_policy { key: 2 value { } }`, 1);
      const busy = scheduler.enqueue(fakeRequest(1, { priority: 2 }));
      await turn();
      const delayed = scheduler.enqueue(fakeRequest(2));
      const later = scheduler.enqueue(fakeRequest(3, { priority: 2 }));
      await turn();
      clock.advance(500);
      assert.equal(scheduler.pendingCount(), 2, 'delayed, not rejected');
      only.runs[0].finish();
      await turn();
      only.runs[1].finish();
      await turn();
      only.runs[2].finish();
      assert.deepEqual(only.runs.map((r) => r.values), [[1], [3], [2]]);
      assert.deepEqual((await Promise.all([busy, delayed, later])).map(outputOf), [1, 2, 3]);
      assert.equal(stats.fail.count, 0);
    });
  });
});
