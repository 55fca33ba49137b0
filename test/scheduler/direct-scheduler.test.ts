import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { DirectScheduler } from '../../src/scheduler/direct-scheduler.ts';
import { ModelStatistics } from '../../src/observability/index.ts';
import { ServerError } from '../../src/errors.ts';
import { fakeConfig, fakeInstances, fakeRequest, outputOf } from '../helpers/fake-instance.ts';

// Component tests: the direct scheduler over fake instances, which finish a batch only when the
// test says so. Nothing here waits on time; `turn()` lets settled promises run on.

function direct(...names: string[]) {
  const { set, instances } = fakeInstances(...names);
  const stats = new ModelStatistics();
  return { scheduler: new DirectScheduler(fakeConfig(''), 1, set, stats), instances, stats };
}

describe('direct scheduler', () => {
  it('runs each request alone on a free instance, and the rest in arrival order as instances free up', async () => {
    const { scheduler, instances: [a, b], stats } = direct('g_0', 'g_1');
    const answers = [1, 2, 3, 4].map((v) => scheduler.enqueue(fakeRequest(v)));
    assert.deepEqual([a.runs.map((r) => r.values), b.runs.map((r) => r.values)], [[[1]], [[2]]]);
    assert.equal(scheduler.pendingCount(), 2);
    b.runs[0].finish();
    await turn();
    assert.deepEqual(b.runs.map((r) => r.values), [[2], [3]]);
    a.runs[0].finish();
    await turn();
    assert.deepEqual(a.runs.map((r) => r.values), [[1], [4]]);
    a.runs[1].finish();
    b.runs[1].finish();
    assert.deepEqual((await Promise.all(answers)).map(outputOf), [1, 2, 3, 4]);
    assert.equal(scheduler.inflightCount(), 0);
    assert.equal(stats.executionCount, 4);
    assert.deepEqual(stats.instanceStats().map((i) => [i.instance, i.executions]).sort(), [['g_0', 2], ['g_1', 2]]);
  });

  it('withdraws a cancelled request from the queue, counts it CANCELED, and serves the next', async () => {
    const { scheduler, instances: [only], stats } = direct('g_0');
    const running = new AbortController();
    const queued = new AbortController();
    const first = scheduler.enqueue(fakeRequest(1), { signal: running.signal });
    const second = scheduler.enqueue(fakeRequest(2), { signal: queued.signal });
    const third = scheduler.enqueue(fakeRequest(3));
    assert.equal(scheduler.pendingCount(), 2);
    queued.abort();
    await assert.rejects(second, (err: unknown) => err instanceof ServerError && err.reason === 'REQUEST_CANCELLED'
      && err.message === 'Request was cancelled' && err.grpcCode === 1);
    assert.equal(scheduler.pendingCount(), 1);
    assert.equal(stats.failReasons.CANCELED, 1);
    // A request already running is not withdrawn: it finishes.
    running.abort();
    only.runs[0].finish();
    assert.equal(outputOf(await first), 1);
    await turn();
    assert.deepEqual(only.runs.map((r) => r.values), [[1], [3]]);
    only.runs[1].finish();
    assert.equal(outputOf(await third), 3);
    assert.equal(stats.failReasons.CANCELED, 1);
    assert.equal(stats.success.count, 2);
  });

  it('refuses a request whose signal is already aborted', async () => {
    const { scheduler, instances: [only], stats } = direct('g_0');
    await assert.rejects(scheduler.enqueue(fakeRequest(1), { signal: AbortSignal.abort() }), /Request was cancelled/);
    assert.equal(only.runs.length, 0);
    assert.equal(stats.failReasons.CANCELED, 1);
  });

  it('fails a request whose run fails as the model\'s error, counted BACKEND, and goes on', async () => {
    const { scheduler, instances: [only], stats } = direct('g_0');
    const failed = scheduler.enqueue(fakeRequest(1));
    const next = scheduler.enqueue(fakeRequest(2));
    only.runs[0].fail('out of cheese');
    await assert.rejects(failed, (err: unknown) => err instanceof ServerError && err.message === "model 'fake': out of cheese");
    assert.equal(stats.failReasons.BACKEND, 1);
    await turn();
    only.runs[1].finish();
    assert.equal(outputOf(await next), 2);
  });

  it('lets accepted requests finish on stop, and refuses new ones', async () => {
    const { scheduler, instances: [only] } = direct('g_0');
    const accepted = scheduler.enqueue(fakeRequest(1));
    const stopped = scheduler.stop();
    await assert.rejects(scheduler.enqueue(fakeRequest(2)), /Server is shutting down/);
    only.runs[0].finish();
    assert.equal(outputOf(await accepted), 1);
    await stopped;
    assert.equal(scheduler.inflightCount(), 0);
  });
});
