/**
 * Triton's generate extension: /generate answers one JSON object whose keys are the outputs,
 * /generate_stream server-sent events, one per response (a decoupled model's as they come).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { repositoryOf, startTestServer, type TestServer } from '../../helpers/server.ts';
import { jsonOf, postJson } from '../../helpers/http.ts';

describe('the generate extension', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity', 'js_repeat')}`]);
  });
  after(() => s.close());

  const a = Array.from({ length: 16 }, (_, i) => i);

  test('maps the keys to inputs and answers the outputs by name, a single element as a scalar', async () => {
    const res = await postJson(`${s.url}/v2/models/simple/generate`, { id: 'g1', INPUT0: a, INPUT1: a.map(() => 2) });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(jsonOf(res), { model_name: 'simple', model_version: '1', id: 'g1', OUTPUT0: a.map((x) => x + 2), OUTPUT1: a.map((x) => x - 2) });
    const text = await postJson(`${s.url}/v2/models/simple_identity/generate`, { INPUT0: 'he\x00llo' });
    assert.deepEqual(jsonOf(text), { model_name: 'simple_identity', model_version: '1', OUTPUT0: 'he\x00llo' });
  });

  test('answers errors as the infer endpoint does', async () => {
    const missing = await postJson(`${s.url}/v2/models/simple/generate`, { INPUT0: a });
    assert.equal(missing.status, 400);
    assert.match(jsonOf(missing).error, /expected 2 inputs but got 1 inputs for model 'simple'/);
    const decoupled = await postJson(`${s.url}/v2/models/js_repeat/generate`, { IN: [1, 2] });
    assert.equal(decoupled.status, 501);
    assert.deepEqual(jsonOf(decoupled), { error: "HTTP end point doesn't support models with decoupled transaction policy" });
  });

  test('streams a decoupled model\'s responses as server-sent events, errors as error events', async () => {
    const res = await postJson(`${s.url}/v2/models/js_repeat/generate_stream`, { id: 's1', IN: [5, 99, 7] });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    const events = res.body.toString().split('\n\n').filter((e) => e !== '').map((e) => {
      assert.ok(e.startsWith('data: '), e);
      return JSON.parse(e.slice(6));
    });
    assert.deepEqual(events, [
      { model_name: 'js_repeat', model_version: '1', id: 's1', OUT: 5, IDX: 0 },
      { error: 'element 1 is 99' },
      { model_name: 'js_repeat', model_version: '1', id: 's1', OUT: 7, IDX: 2 },
    ]);
  });

  test('streams a model that answers once as one event, and refuses a bad request with a JSON error', async () => {
    const res = await postJson(`${s.url}/v2/models/simple_identity/generate_stream`, { INPUT0: ['x', 'y'] });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'data: {"model_name":"simple_identity","model_version":"1","OUTPUT0":["x","y"]}\n\n');
    const bad = await postJson(`${s.url}/v2/models/js_repeat/generate_stream`, { NOPE: [1] });
    assert.equal(bad.status, 400);
    assert.match(jsonOf(bad).error, /NOPE/);
  });
});
