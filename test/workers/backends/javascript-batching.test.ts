import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { batchSizes, startRepoServer, type RepoServer } from '../../helpers/batching.ts';
import { jsonOf, postJson, type RawResponse } from '../../helpers/http.ts';
import { FIXTURES } from '../../helpers/server.ts';

// js_echo's config with the dynamic batcher: a batch goes when it holds 4 rows (the delay is far
// longer than any test), so which requests share a batch is decided by the test, not the clock.
const config = readFileSync(path.join(FIXTURES, 'js_echo', 'config.pbtxt'), 'utf8').replace(/^name:.*$/m, '')
  + 'dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 60000000 }\n';

describe('a JavaScript model under the dynamic batcher', () => {
  let s: RepoServer;
  before(async () => {
    s = await startRepoServer({ js_echo: { from: 'js_echo', config } });
  });
  after(() => s.close());

  const echo = (values: number[], parameters?: Record<string, unknown>) => postJson(`${s.url}/v2/models/js_echo/infer`, {
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [values.length, 1], data: values }],
    ...(parameters ? { parameters } : {}),
  });
  const outputs = (res: RawResponse) => {
    assert.equal(res.status, 200, res.body.toString());
    return Object.fromEntries(jsonOf(res).outputs.map((o: { name: string; data: unknown[] }) => [o.name, o.data]));
  };

  test('gives execute one request per client request of the batch, each with its own rows', async () => {
    const [a, b] = await Promise.all([echo([1]), echo([2, 3, 4])]);
    assert.deepEqual(outputs(a), { OUTPUT0: [2], BATCH: [2], INSTANCE: [outputs(a).INSTANCE[0]] });
    assert.deepEqual(outputs(b).OUTPUT0, [4, 6, 8]);
    assert.deepEqual(outputs(b).BATCH, [2, 2, 2]);
    assert.equal(batchSizes(s.stats('js_echo'))[4], 1);
  });

  test('fails only the request answered with { error }; the others of its batch get their own rows', async () => {
    const answers = await Promise.all([echo([1]), echo([5], { fail: 'error' }), echo([2]), echo([3])]);
    assert.deepEqual(answers.map((r) => r.status), [200, 500, 200, 200]);
    assert.deepEqual(jsonOf(answers[1]), { error: "model 'js_echo': refused 5" });
    assert.deepEqual([answers[0], answers[2], answers[3]].map((r) => outputs(r).OUTPUT0[0]), [2, 4, 6]);
    assert.deepEqual(outputs(answers[0]).BATCH, [4]);
  });

  test('fails every request of a batch whose execute throws, naming the model', async () => {
    const answers = await Promise.all([echo([1]), echo([2], { fail: 'throw' }), echo([3]), echo([4])]);
    for (const r of answers) {
      assert.equal(r.status, 500);
      assert.deepEqual(jsonOf(r), { error: "model 'js_echo': asked to throw by a request of 4" });
    }
  });
});
