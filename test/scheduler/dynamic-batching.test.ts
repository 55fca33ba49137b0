import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizes, inferValue, outputValue, running, startRepoServer, until, type RepoServer } from '../helpers/batching.ts';
import { slowConfig } from '../helpers/repo.ts';
import { postJson, jsonOf } from '../helpers/http.ts';

// The `slow` fixture takes about 0.4 s a run whatever the batch size, so requests sent while
// it runs wait in the queue together. Each test waits for the server's own state (a run at the
// instance, requests in the queue) before the next step, never a fixed time; the exact decisions
// are tested with a fake instance and clock in dynamic-batch-scheduler.test.ts. Tests never
// assert times; the guards only stop a hang.
const guard = { timeout: 60_000 };

describe('dynamic batching', () => {
  const servers: RepoServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));
  const start = async (...args: Parameters<typeof startRepoServer>) => {
    const s = await startRepoServer(...args);
    servers.push(s);
    return s;
  };

  it('forms batches under concurrent load, never over max_batch_size, with each result going back to its request', guard, async () => {
    const s = await start({ slow: { from: 'slow', config: slowConfig('dynamic_batching { }', 4) } });
    const first = inferValue(s.url, 'slow', 1000);
    await until(() => running(s, 'slow'));
    const values = Array.from({ length: 10 }, (_, i) => i * 1.5 - 3);
    const answers = await Promise.all([first, ...values.map((v) => inferValue(s.url, 'slow', v))]);
    assert.deepEqual(answers.map(outputValue), [1000, ...values]);
    const sizes = batchSizes(s.stats('slow'));
    assert.ok(Object.keys(sizes).every((size) => Number(size) <= 4), `batch sizes ${JSON.stringify(sizes)}`);
    assert.ok(sizes[4] >= 1, `no full batch among ${JSON.stringify(sizes)}`);
    assert.equal(s.stats('slow').inferenceCount, 11);
    assert.ok(s.stats('slow').executionCount < 11);
  });

  it('sends a batch as soon as it reaches a preferred size, without waiting out the queue delay', guard, async () => {
    const s = await start({ slow: { from: 'slow', config: slowConfig('dynamic_batching { preferred_batch_size: [ 3 ] max_queue_delay_microseconds: 600000000 }') } });
    const answers = await Promise.all([5, 6, 7].map((v) => inferValue(s.url, 'slow', v)));
    assert.deepEqual(answers.map(outputValue), [5, 6, 7]);
    assert.deepEqual(batchSizes(s.stats('slow')), { 3: 1 });
  });

  it('holds a request for max_queue_delay_microseconds so that later ones join its batch', guard, async () => {
    const s = await start({ slow: { from: 'slow', config: slowConfig('dynamic_batching { max_queue_delay_microseconds: 1500000 }') } });
    const early = inferValue(s.url, 'slow', 1);
    await until(() => s.scheduler('slow').pendingCount() === 1); // held for the delay, not running
    const late = inferValue(s.url, 'slow', 2);
    assert.deepEqual((await Promise.all([early, late])).map(outputValue), [1, 2]);
    assert.deepEqual(batchSizes(s.stats('slow')), { 2: 1 });
  });

  it('does not batch requests whose variable dims differ', guard, async () => {
    const s = await start({
      identity: { from: 'string_identity', config: 'platform: "onnxruntime_onnx"\nmax_batch_size: 8\ninput [ { name: "INPUT0" data_type: TYPE_STRING dims: [ -1 ] } ]\noutput [ { name: "OUTPUT0" data_type: TYPE_STRING dims: [ -1 ] } ]\ndynamic_batching { max_queue_delay_microseconds: 500000 }\n' },
    });
    const send = (data: string[]) => postJson(`${s.url}/v2/models/identity/infer`, { inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, data.length], data }] });
    const same = [send(['a', 'b']), send(['c', 'd'])];
    // The odd one out arrives last, so the two alike lead the queue.
    await until(() => s.scheduler('identity').pendingCount() === 2);
    const answers = await Promise.all([...same, send(['e', 'f', 'g'])]);
    assert.deepEqual(answers.map((r) => jsonOf(r).outputs[0].data), [['a', 'b'], ['c', 'd'], ['e', 'f', 'g']]);
    assert.deepEqual(batchSizes(s.stats('identity')), { 1: 1, 2: 1 });
  });

  it('runs each request alone without dynamic_batching', guard, async () => {
    const s = await start({ slow: { from: 'slow', config: slowConfig('') } });
    const answers = await Promise.all([1, 2, 3].map((v) => inferValue(s.url, 'slow', v)));
    assert.deepEqual(answers.map(outputValue), [1, 2, 3]);
    assert.deepEqual(batchSizes(s.stats('slow')), { 1: 3 });
  });
});
