/**
 * The model repository extension over HTTP in explicit mode, driven with the requests Triton's
 * `simple_http_model_control` example sends (tritonclient.http: load_model, unload_model,
 * get_model_repository_index), plus uploads, path attacks and concurrent load/unload.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repositoryOf, startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, postJson } from '../helpers/http.ts';

const simpleBody = {
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, () => 1) },
  ],
};

describe('model control over HTTP, explicit mode', () => {
  let ts: TestServer;
  let repo: string;
  const load = (name: string, body: unknown = {}) => postJson(`${ts.url}/v2/repository/models/${name}/load`, body);
  const unload = (name: string, body: unknown = {}) => postJson(`${ts.url}/v2/repository/models/${name}/unload`, body);
  const index = async () => jsonOf(await postJson(`${ts.url}/v2/repository/index`, {})) as { name: string; version?: string; state?: string; reason?: string }[];
  const ready = async (name: string) => (await fetch(`${ts.url}/v2/models/${name}/ready`)).status === 200;

  before(async () => {
    repo = repositoryOf('simple', 'simple_identity', 'simple_string');
    ts = await startTestServer([`--model-repository=${repo}`, '--model-control-mode=explicit', '--load-model=simple_identity']);
  });
  after(() => ts?.close());

  test('loads only --load-model at start-up; the index lists the others by name only', async () => {
    const rows = await index();
    assert.deepEqual(rows.map((r) => r.name), ['simple', 'simple_identity', 'simple_string']);
    assert.deepEqual(rows.find((r) => r.name === 'simple'), { name: 'simple' });
    assert.deepEqual(rows.find((r) => r.name === 'simple_identity'), { name: 'simple_identity', version: '1', state: 'READY', reason: '' });
    assert.equal(await ready('simple'), false);
  });

  test('server metadata lists model_repository and model_repository(unload_dependents)', async () => {
    const { extensions } = await (await fetch(`${ts.url}/v2`)).json() as { extensions: string[] };
    assert.ok(extensions.includes('model_repository') && extensions.includes('model_repository(unload_dependents)'), extensions.join());
  });

  test('runs the steps of Triton\'s simple_http_model_control example', async () => {
    const loaded = await load('simple');
    assert.equal(loaded.status, 200, loaded.body.toString());
    assert.equal(await ready('simple'), true);
    // A config that is not JSON: "failed to load", and the model keeps serving.
    const bad = await load('simple', { parameters: { config: '"parameters": {"config": {{"max_batch_size": "16"}}}' } });
    assert.equal(bad.status, 500);
    assert.match(jsonOf(bad).error, /^failed to load 'simple', failed to poll from model repository: Invalid config override/);
    assert.equal(await ready('simple'), true);
    // The example's override: max_batch_size as a string, the rest completed from the model.
    const good = await load('simple', { parameters: { config: '{"max_batch_size":"16"}' } });
    assert.equal(good.status, 200, good.body.toString());
    const config = await (await fetch(`${ts.url}/v2/models/simple/config`)).json() as { max_batch_size: number };
    assert.equal(config.max_batch_size, 16);
    const res = await postJson(`${ts.url}/v2/models/simple/infer`, simpleBody);
    assert.equal(res.status, 200);
    assert.equal(jsonOf(res).outputs[0].data[3], 4);
    const gone = await unload('simple', { parameters: { unload_dependents: false } });
    assert.equal(gone.status, 200);
    assert.equal(await ready('simple'), false);
    assert.deepEqual((await index()).find((r) => r.name === 'simple'), { name: 'simple', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
    const afterUnload = await postJson(`${ts.url}/v2/models/simple/infer`, simpleBody);
    assert.equal(afterUnload.status, 503);
    // An unloaded model does not count against strict readiness.
    assert.equal((await fetch(`${ts.url}/v2/health/ready`)).status, 200);
    const wrong = await load('wrong_model_name');
    assert.equal(wrong.status, 500);
    assert.match(jsonOf(wrong).error, /failed to load 'wrong_model_name'/);
  });

  test('unload with unload_dependents unloads the model', async () => {
    assert.equal((await load('simple_string')).status, 200);
    assert.equal((await unload('simple_string', { parameters: { unload_dependents: true } })).status, 200);
    assert.equal(await ready('simple_string'), false);
    const bad = await unload('simple_string', { parameters: { unload_dependents: 'yes' } });
    assert.equal(bad.status, 400);
    assert.match(jsonOf(bad).error, /unload_dependents' must be a boolean/);
  });

  test('refuses an unknown load parameter and a non-string config', async () => {
    const unknown = await load('simple', { parameters: { colour: 'blue' } });
    assert.equal(unknown.status, 400);
    assert.match(jsonOf(unknown).error, /Unrecognized load parameter 'colour'/);
    const notText = await load('simple', { parameters: { config: 16 } });
    assert.equal(notText.status, 400);
  });

  test('loads a model from uploaded files (base64) with a config, under a new name', async () => {
    const onnx = readFileSync(path.join(repo, 'simple', '1', 'model.onnx')).toString('base64');
    const res = await load('uploaded', { parameters: { config: '{"max_batch_size": 4}', 'file:1/model.onnx': onnx } });
    assert.equal(res.status, 200, res.body.toString());
    const answer = await postJson(`${ts.url}/v2/models/uploaded/infer`, simpleBody);
    assert.equal(answer.status, 200);
    assert.equal(jsonOf(answer).outputs[1].data[5], 4);
    // Nothing was written into the repository; unloading removes the temporary directory.
    assert.equal(existsSync(path.join(repo, 'uploaded')), false);
    assert.equal((await unload('uploaded')).status, 200);
    assert.equal(await ready('uploaded'), false);
  });

  test('refuses upload paths that leave the temporary directory, and writes nothing', async () => {
    const before = readdirSync(os.tmpdir()).filter((f) => f.startsWith('nereid-override-')).length;
    const attacks = ['file:../escape.onnx', 'file:1/../../escape.onnx', 'file:/tmp/escape.onnx', 'file:1//model.onnx', 'file:1\\..\\x', `file:${'A'.repeat(256)}`];
    for (const key of attacks) {
      const res = await load('attack', { parameters: { config: '{}', [key]: Buffer.from('x').toString('base64') } });
      assert.equal(res.status, 500, key);
      assert.match(jsonOf(res).error, /^failed to load 'attack', failed to poll from model repository: /, key);
    }
    assert.equal(existsSync(path.join(os.tmpdir(), 'escape.onnx')), false);
    assert.equal(readdirSync(os.tmpdir()).filter((f) => f.startsWith('nereid-override-')).length, before);
    const notBase64 = await load('attack', { parameters: { config: '{}', 'file:1/model.onnx': '!!!' } });
    assert.equal(notBase64.status, 400);
  });

  test('a load of a name that is a path is refused without reading outside the repository', async () => {
    const res = await postJson(`${ts.url}/v2/repository/models/${encodeURIComponent('../simple')}/load`, {});
    assert.equal(res.status, 500);
    assert.match(jsonOf(res).error, /failed to load '\.\.\/simple'/);
  });

  test('concurrent loads and unloads of one model run one after the other', async () => {
    const answers = await Promise.all([load('simple'), unload('simple'), load('simple'), unload('simple'), load('simple')]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    assert.equal(await ready('simple'), true);
    assert.deepEqual((await index()).filter((r) => r.name === 'simple').map((r) => r.state), ['READY']);
  });
});

describe('explicit mode start-up', () => {
  test('a --load-model name missing from the repositories is a failed model (the server is not ready)', async () => {
    const ts = await startTestServer([`--model-repository=${repositoryOf('simple')}`, '--model-control-mode=explicit', '--load-model=simple', '--load-model=nope']);
    try {
      const rows = jsonOf(await postJson(`${ts.url}/v2/repository/index`, {})) as { name: string; state?: string; reason?: string }[];
      assert.deepEqual(rows.find((r) => r.name === 'nope'), { name: 'nope', state: 'UNAVAILABLE', reason: "failed to load 'nope': no model directory of that name in the repositories" });
      assert.equal((await fetch(`${ts.url}/v2/health/ready`)).status, 400);
      assert.equal((await fetch(`${ts.url}/v2/models/simple/ready`)).status, 200);
    } finally {
      await ts.close();
    }
  });

  test('--load-model=* loads every model', async () => {
    const ts = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`, '--model-control-mode=explicit', '--load-model=*']);
    try {
      const rows = jsonOf(await postJson(`${ts.url}/v2/repository/index`, { ready: true })) as { name: string }[];
      assert.deepEqual(rows.map((r) => r.name), ['simple', 'simple_identity']);
    } finally {
      await ts.close();
    }
  });
});

describe('model control over HTTP, none mode', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer([`--model-repository=${repositoryOf('simple')}`]);
  });
  after(() => ts?.close());

  test('load and unload answer Triton\'s 503, and the model keeps serving', async () => {
    for (const action of ['load', 'unload']) {
      const res = await postJson(`${ts.url}/v2/repository/models/simple/${action}`, {});
      assert.equal(res.status, 503);
      assert.deepEqual(jsonOf(res), { error: 'explicit model load / unload is not allowed if polling is enabled' });
    }
    assert.equal((await fetch(`${ts.url}/v2/models/simple/ready`)).status, 200);
  });

  test('server metadata does not list the model_repository extensions', async () => {
    const { extensions } = await (await fetch(`${ts.url}/v2`)).json() as { extensions: string[] };
    assert.ok(!extensions.some((e) => e.startsWith('model_repository')), extensions.join());
  });
});
