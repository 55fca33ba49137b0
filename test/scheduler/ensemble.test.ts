/**
 * Ensembles end to end: a request runs through the steps, each on its model's own scheduler,
 * independent steps side by side, and a failing step fails the request naming it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repositoryOf, startTestServer } from '../helpers/server.ts';
import { makeRepository } from '../helpers/repo.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';
import { jsonOf, postJson, request } from '../helpers/http.ts';

const a = Array.from({ length: 16 }, (_, i) => i);
const b = Array.from({ length: 16 }, (_, i) => 7 * i - 20);
const c = Array.from({ length: 16 }, (_, i) => 1000 + i);

describe('an ensemble', () => {
  let ts: GrpcTestServer;
  let scratch: string;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('ens_add', 'simple', 'ens_parallel', 'js_gate')}`]);
    scratch = mkdtempSync(path.join(os.tmpdir(), 'nereid-ens-'));
  });
  after(async () => {
    await ts.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const stats = async (model: string) => jsonOf(await request(`${ts.url}/v2/models/${model}/stats`)).model_stats[0].inference_stats;

  test('answers the outputs its steps compute, a step feeding the next, over HTTP and gRPC', async () => {
    const before = (await stats('simple')).success.count;
    const inputs = [['A', a], ['B', b], ['C', c]].map(([name, data]) => ({ name: name as string, datatype: 'INT32', shape: [1, 16], data: data as number[] }));
    const res = await postJson(`${ts.url}/v2/models/ens_add/infer`, { inputs });
    assert.equal(res.status, 200, res.body.toString());
    const outputs = Object.fromEntries(jsonOf(res).outputs.map((o: { name: string; shape: number[]; data: number[] }) => [o.name, [o.shape, o.data]]));
    assert.deepEqual(outputs, {
      SUM: [[1, 16], a.map((x, i) => x + b[i] + c[i])],
      AB_DIFF: [[1, 16], a.map((x, i) => x - b[i])],
      AC_DIFF: [[1, 16], a.map((x, i) => x - c[i])],
    });
    // Each of the three steps is a request to simple's scheduler.
    assert.equal((await stats('simple')).success.count, before + 3);
    assert.equal((await stats('ens_add')).success.count, 1);
    const grpc = await ts.grpc.infer('ens_add', inputs, { outputs: ['SUM'] });
    assert.deepEqual(grpc.outputs.map((o) => [o.name, [...(o.data as Int32Array)]]), [['SUM', a.map((x, i) => x + b[i] + c[i])]]);
  });

  test('runs independent steps side by side: one waits until the other has run', async () => {
    const marker = path.join(scratch, 'released');
    const res = await postJson(`${ts.url}/v2/models/ens_parallel/infer`, {
      parameters: { marker },
      inputs: [{ name: 'HOLD', datatype: 'FP32', shape: [1], data: [-1] }, { name: 'RELEASE', datatype: 'FP32', shape: [1], data: [2] }],
    });
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(jsonOf(res).outputs.map((o: { name: string; data: number[] }) => [o.name, o.data[0]]), [['OUT_HOLD', -1], ['OUT_RELEASE', 2]]);
  });

  test('fails the request when a step fails, naming the step and its model, with the step\'s status', async () => {
    const res = await postJson(`${ts.url}/v2/models/ens_parallel/infer`, {
      parameters: { marker: path.join(scratch, 'unlucky') },
      inputs: [{ name: 'HOLD', datatype: 'FP32', shape: [1], data: [-1] }, { name: 'RELEASE', datatype: 'FP32', shape: [1], data: [13] }],
    });
    assert.equal(res.status, 500);
    assert.deepEqual(jsonOf(res), { error: "in ensemble 'ens_parallel', step 1 (model 'js_gate'): model 'js_gate': unlucky" });
    assert.equal((await stats('ens_parallel')).fail.count, 1);
  });

  test('checks the request against the ensemble\'s own inputs first, as any model', async () => {
    const res = await postJson(`${ts.url}/v2/models/ens_add/infer`, { inputs: [{ name: 'A', datatype: 'INT32', shape: [1, 16], data: a }] });
    assert.equal(res.status, 400);
    assert.match(jsonOf(res).error, /expected 3 inputs but got 1 inputs for model 'ens_add'/);
  });

  test('reports its config as Triton does: platform ensemble, its steps', async () => {
    const config = jsonOf(await request(`${ts.url}/v2/models/ens_add/config`));
    assert.equal(config.platform, 'ensemble');
    assert.deepEqual(config.ensemble_scheduling.step.map((s: { model_name: string }) => s.model_name), ['simple', 'simple', 'simple']);
  });
});

describe('loading an ensemble', () => {
  test('fails the load of an ensemble whose step names an unknown model, or that reaches itself, naming the step', async () => {
    const io = 'input [ { name: "X" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "Y" data_type: TYPE_FP32 dims: [ 1 ] } ]\n';
    const steps = (model: string) => `ensemble_scheduling { step [ { model_name: "${model}" input_map { key: "X" value: "X" } output_map { key: "Y" value: "Y" } } ] }\n`;
    const repo = makeRepository({
      lost: { from: 'ens_add', config: `platform: "ensemble"\n${io}${steps('nowhere')}` },
      ping: { from: 'ens_add', config: `platform: "ensemble"\n${io}${steps('pong')}` },
      pong: { from: 'ens_add', config: `platform: "ensemble"\n${io}${steps('ping')}` },
    });
    const s = await startTestServer([`--model-repository=${repo.dir}`, '--exit-on-error=false']);
    try {
      const index = jsonOf(await request(`${s.url}/v2/repository/index`, { method: 'POST', body: '{}' }));
      const reason = (name: string) => index.find((m: { name: string }) => m.name === name).reason;
      assert.match(reason('lost'), /^ensemble 'lost': step 0 \(model 'nowhere'\): model 'nowhere' is not in the model repository$/);
      assert.match(reason('ping'), /^ensemble 'ping': step 0 \(model 'pong'\) leads back to 'ping' through nested ensembles$/);
    } finally {
      await s.close();
      repo.remove();
    }
  });
});
