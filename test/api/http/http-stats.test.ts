import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, sequence, type TestServer } from '../../helpers/server.ts';
import { inject, postJson, jsonOf, simpleRequest, request } from '../../helpers/http.ts';

// The first test reads the statistics over a real socket; the others ask the route through inject().
describe('statistics extension', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('counts batch elements, executions, successes and failures per model version', async () => {
    for (const rows of [1, 3, 2]) {
      const res = await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(rows));
      assert.equal(res.status, 200);
    }
    const bad = await postJson(`${s.url}/v2/models/simple/infer`, { inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1) }] });
    assert.equal(bad.status, 400);
    const stats = jsonOf(await request(`${s.url}/v2/models/simple/stats`)).model_stats;
    assert.equal(stats.length, 1);
    const [m] = stats;
    assert.equal(m.name, 'simple');
    assert.equal(m.version, '1');
    assert.equal(m.inference_count, 6);
    assert.equal(m.execution_count, 3);
    assert.equal(m.inference_stats.success.count, 3);
    assert.equal(m.inference_stats.fail.count, 0, 'a request refused before it was queued is not a failed inference');
    for (const key of ['success', 'queue', 'compute_input', 'compute_infer', 'compute_output']) {
      assert.ok(m.inference_stats[key].ns > 0, `${key} has a duration`);
    }
    assert.deepEqual(m.batch_stats.map((b: { batch_size: number; compute_infer: { count: number } }) => [b.batch_size, b.compute_infer.count]), [[1, 1], [2, 1], [3, 1]]);
    assert.ok(m.last_inference > 0);
  });

  it("has Triton's fields and types: version a string, counts and ns numbers, response_stats an object", async () => {
    const [m] = jsonOf(await inject(s, '/v2/models/simple/versions/1/stats')).model_stats;
    assert.deepEqual(Object.keys(m), ['name', 'version', 'last_inference', 'inference_count', 'execution_count', 'inference_stats', 'response_stats', 'batch_stats', 'memory_usage']);
    assert.equal(typeof m.version, 'string');
    for (const key of ['last_inference', 'inference_count', 'execution_count']) assert.equal(typeof m[key], 'number', key);
    assert.deepEqual(Object.keys(m.inference_stats), ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss']);
    for (const d of Object.values(m.inference_stats) as { count: unknown; ns: unknown }[]) {
      assert.deepEqual([typeof d.count, typeof d.ns], ['number', 'number']);
    }
    assert.deepEqual(m.response_stats, {});
    assert.deepEqual(m.memory_usage, []);
    for (const b of m.batch_stats) assert.deepEqual(Object.keys(b), ['batch_size', 'compute_input', 'compute_infer', 'compute_output']);
  });

  it('lists every ready model version, and answers 404 for an unknown model or version', async () => {
    const all = jsonOf(await inject(s, '/v2/models/stats')).model_stats.map((m: { name: string }) => m.name).sort();
    assert.deepEqual(all, ['simple', 'simple_identity', 'simple_string']);
    assert.equal((await inject(s, '/v2/models/simple/versions/1/stats')).status, 200);
    assert.equal((await inject(s, '/v2/models/simple/versions/7/stats')).status, 404);
    assert.equal((await inject(s, '/v2/models/nope/stats')).status, 404);
  });
});
