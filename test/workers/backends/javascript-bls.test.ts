/**
 * Calls between models (BLS): a JavaScript model's context.infer runs another model through
 * its scheduler on the primary, resolves to its outputs, and rejects with the server's error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { repositoryOf, startTestServer, type TestServer } from '../../helpers/server.ts';
import { jsonOf, postJson, request } from '../../helpers/http.ts';

const a = Array.from({ length: 16 }, (_, i) => i);
const b = Array.from({ length: 16 }, (_, i) => 100 - 3 * i);

describe('context.infer from a JavaScript model', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('js_bls', 'simple', 'simple_identity')}`]);
  });
  after(() => s.close());

  const call = (mode: string) => postJson(`${s.url}/v2/models/js_bls/infer`, {
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [16], data: a },
      { name: 'INPUT1', datatype: 'INT32', shape: [16], data: b },
      { name: 'MODE', datatype: 'BYTES', shape: [1], data: [mode] },
    ],
  });
  const successes = async (model: string): Promise<number> => jsonOf(await request(`${s.url}/v2/models/${model}/stats`)).model_stats[0].inference_stats.success.count;

  test('runs the model its input picks, through that model\'s scheduler, and BYTES through another', async () => {
    const before = await successes('simple');
    const added = await call('add');
    assert.equal(added.status, 200, added.body.toString());
    const outputs = Object.fromEntries(jsonOf(added).outputs.map((o: { name: string; data: unknown[] }) => [o.name, o.data]));
    assert.deepEqual(outputs.OUTPUT, a.map((x, i) => x + b[i]));
    assert.deepEqual(outputs.TEXT, ['add']);
    const subtracted = await call('sub');
    assert.deepEqual(jsonOf(subtracted).outputs[0].data, a.map((x, i) => x - b[i]));
    assert.equal(await successes('simple'), before + 2);
  });

  test('rejects with Triton\'s error for an unknown model, which the model may answer as its error', async () => {
    const res = await call('missing');
    assert.equal(res.status, 500);
    assert.deepEqual(jsonOf(res), { error: "model 'js_bls': the call failed: Request for unknown model: 'no_such_model' is not found" });
  });

  test('rejects a request the target refuses (a missing input), and the model fails when it lets that escape', async () => {
    const res = await call('throw');
    assert.equal(res.status, 500);
    assert.match(jsonOf(res).error, /^model 'js_bls': expected 2 inputs but got 1 inputs for model 'simple'/);
  });
});
