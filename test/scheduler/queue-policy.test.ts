import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { inferValue, outputValue, running, startRepoServer, until, type RepoServer } from '../helpers/batching.ts';
import { slowConfig } from '../helpers/repo.ts';
import { jsonOf } from '../helpers/http.ts';

// max_batch_size 1: every run of the `slow` fixture (about 0.4 s) takes one request, so the
// ones sent during it queue up. Each test waits for the server's own state (a run at the
// instance, requests in the queue) before the next step, never a fixed time. The exact orders
// and timeouts are tested with a fake instance and clock in dynamic-batch-scheduler.test.ts; these
// check the same policies through the real path. Tests never assert times; the guards only stop a hang.
const queued = (s: RepoServer, n: number) => until(() => s.scheduler('slow').pendingCount() === n);
const guard = { timeout: 60_000 };

describe('queue policies', () => {
  const servers: RepoServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));
  const start = async (config: string) => {
    const s = await startRepoServer({ slow: { from: 'slow', config: slowConfig(config, 1) } });
    servers.push(s);
    return s;
  };

  it('serves a higher priority level first', guard, async () => {
    const s = await start('dynamic_batching { priority_levels: 2 default_priority_level: 2 }');
    const finished: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => finished.push(name));
    const busy = track('busy', inferValue(s.url, 'slow', 0));
    await until(() => running(s, 'slow'));
    const low = track('low', inferValue(s.url, 'slow', 1, { priority: 2 }));
    await queued(s, 1);
    const high = track('high', inferValue(s.url, 'slow', 2, { priority: 1 }));
    await Promise.all([busy, low, high]);
    assert.deepEqual(finished, ['busy', 'high', 'low']);
  });

  it('answers 503 "Exceeds maximum queue size" when the queue is full, and serves the rest', guard, async () => {
    const s = await start('dynamic_batching { default_queue_policy { max_queue_size: 1 } }');
    const busy = inferValue(s.url, 'slow', 1);
    await until(() => running(s, 'slow'));
    const waiting = inferValue(s.url, 'slow', 2);
    await queued(s, 1);
    const refused = await inferValue(s.url, 'slow', 3);
    assert.equal(refused.status, 503);
    assert.match(jsonOf(refused).error, /Exceeds maximum queue size/);
    assert.deepEqual((await Promise.all([busy, waiting])).map(outputValue), [1, 2]);
  });

  it('rejects a queued request whose timeout expired, with an error saying so', guard, async () => {
    const s = await start('dynamic_batching { default_queue_policy { default_timeout_microseconds: 30000 } }');
    const busy = inferValue(s.url, 'slow', 1);
    await until(() => running(s, 'slow'));
    const late = await inferValue(s.url, 'slow', 2);
    assert.equal(late.status, 503);
    assert.match(jsonOf(late).error, /Request timeout expired/);
    assert.equal(outputValue(await busy), 1);
    assert.equal(s.stats('slow').fail.count, 1);
  });

  it('takes a request\'s own timeout parameter where the policy allows it', guard, async () => {
    const s = await start('dynamic_batching { default_queue_policy { allow_timeout_override: true default_timeout_microseconds: 600000000 } }');
    const busy = inferValue(s.url, 'slow', 1);
    await until(() => running(s, 'slow'));
    const late = await inferValue(s.url, 'slow', 2, { timeout: 30000 });
    assert.match(jsonOf(late).error, /Request timeout expired/);
    assert.equal(outputValue(await busy), 1);
  });

  it('runs a timed-out request later instead under timeout_action DELAY', guard, async () => {
    // Level 1 times out after 30 ms and then waits behind everything; level 2 never times out.
    const s = await start(`dynamic_batching {
      priority_levels: 2 default_priority_level: 1
      default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 30000 }
      priority_queue_policy { key: 2 value { } }
    }`);
    const finished: number[] = [];
    const track = (p: Promise<Parameters<typeof outputValue>[0]>) => p.then((r) => finished.push(outputValue(r)));
    const busy = track(inferValue(s.url, 'slow', 1, { priority: 2 }));
    await until(() => running(s, 'slow'));
    const delayed = track(inferValue(s.url, 'slow', 2));
    await queued(s, 1);
    // Its 30 ms pass while `busy` runs: when the instance frees up, it has moved behind `later`.
    const later = track(inferValue(s.url, 'slow', 3, { priority: 2 }));
    await Promise.all([busy, delayed, later]);
    assert.deepEqual(finished, [1, 3, 2]);
  });

  it('refuses a priority that is not a non-negative integer', guard, async () => {
    const s = await start('dynamic_batching { priority_levels: 2 default_priority_level: 1 }');
    const res = await inferValue(s.url, 'slow', 1, { priority: 'high' });
    assert.equal(res.status, 400);
    assert.match(jsonOf(res).error, /request parameter 'priority' must be a non-negative integer/);
  });
});
