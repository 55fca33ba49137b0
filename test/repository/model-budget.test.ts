/**
 * --model-memory-budget (Nereid's own, explicit mode): a request for a model in the repository
 * that is not loaded loads it and waits; the least recently used idle model is unloaded to stay
 * within the budget; loads, unloads, evictions and load time are in the metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { repositoryOf, startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, postJson } from '../helpers/http.ts';
import { scrape, sampleValue } from '../helpers/metrics.ts';

const ints = { inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) })) };
const strings = { inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'BYTES', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => String(i)) })) };
const identity = { inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], data: ['a', 'b'] }] };
const bodies: Record<string, unknown> = { simple: ints, simple_string: strings, simple_identity: identity };

describe('models on demand under a budget of two models', () => {
  let ts: TestServer;
  const infer = (model: string) => postJson(`${ts.url}/v2/models/${model}/infer`, bodies[model]);
  const state = async (model: string) => (jsonOf(await postJson(`${ts.url}/v2/repository/index`, {})) as { name: string; state?: string; reason?: string }[]).find((r) => r.name === model);
  const metric = async (name: string, model: string) => sampleValue((await scrape(ts.server.metricsPort!)).samples, name, { model });

  before(async () => {
    ts = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity', 'simple_string')}`, '--model-control-mode=explicit', '--model-memory-budget=2models']);
  });
  after(() => ts?.close());

  test('a request for a model that is not loaded loads it and is answered', async () => {
    assert.deepEqual(await state('simple'), { name: 'simple' });
    const res = await infer('simple');
    assert.equal(res.status, 200, res.body.toString());
    assert.equal((await state('simple'))?.state, 'READY');
    assert.equal(await metric('nereid_model_loads_total', 'simple'), 1);
    assert.ok((await metric('nereid_model_load_duration_seconds_total', 'simple'))! > 0);
  });

  test('requests that arrive together for an unloaded model share one load', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => infer('simple_identity')));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(await metric('nereid_model_loads_total', 'simple_identity'), 1);
  });

  test('past the budget, the least recently used idle model is unloaded', async () => {
    assert.equal((await infer('simple')).status, 200); // simple is now used more recently than simple_identity
    const res = await infer('simple_string');
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(await state('simple_identity'), { name: 'simple_identity', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
    assert.equal((await state('simple'))?.state, 'READY');
    assert.equal(await metric('nereid_model_evictions_total', 'simple_identity'), 1);
    assert.equal(await metric('nereid_model_unloads_total', 'simple_identity'), 1);
    const { samples } = await scrape(ts.server.metricsPort!);
    assert.equal(sampleValue(samples, 'nereid_model_memory_budget_used', { unit: 'models', kind: 'used' }), 2);
    assert.equal(sampleValue(samples, 'nereid_model_memory_budget_used', { unit: 'models', kind: 'limit' }), 2);
  });

  test('an evicted model loads again when asked for', async () => {
    assert.equal((await infer('simple_identity')).status, 200);
    assert.equal(await metric('nereid_model_loads_total', 'simple_identity'), 2);
    assert.equal((await state('simple'))?.reason, 'unloaded'); // now the least recently used
  });

  test('a model that is not in the repository answers 404', async () => {
    const res = await postJson(`${ts.url}/v2/models/nope/infer`, ints);
    assert.equal(res.status, 404);
    assert.match(jsonOf(res).error, /'nope' is not found/);
  });
});

describe('a byte budget smaller than a model', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer([`--model-repository=${repositoryOf('simple')}`, '--model-control-mode=explicit', '--model-memory-budget=16']);
  });
  after(() => ts?.close());

  test('refuses the load with the budget in the reason', async () => {
    const res = await postJson(`${ts.url}/v2/models/simple/infer`, ints);
    assert.equal(res.status, 400);
    assert.match(jsonOf(res).error, /^load failed for model 'simple': the loaded models use 0 of the 16 bytes of --model-memory-budget, 'simple' needs [0-9]+, and no loaded model is idle to unload$/);
    assert.equal(sampleValue((await scrape(ts.server.metricsPort!)).samples, 'nereid_model_load_failures_total', { model: 'simple' }), 1);
  });
});
