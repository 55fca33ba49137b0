/**
 * Implicit state end to end (`sequence_batching { state [...] }`): the server feeds the model's
 * state input with what its state output gave on the sequence's previous request, per sequence,
 * from the initial state at each start; the state output reaches a client only where config.pbtxt
 * lists it. `sequence_accumulate` keeps a running sum (OUTPUT = INPUT + INPUT_STATE).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeRepository } from '../helpers/repo.ts';
import { FIXTURES, startTestServer, type TestServer } from '../helpers/server.ts';
import { jsonOf, postJson, type RawResponse } from '../helpers/http.ts';

const config = readFileSync(path.join(FIXTURES, 'sequence_accumulate', 'config.pbtxt'), 'utf8').replace(/^name: .*\n/m, '');
const fromFile = config.replace('dims: [ 1 ] }', 'dims: [ 1 ] initial_state { data_type: TYPE_INT32 dims: [ 1 ] data_file: "hundred" name: "start at 100" } }');
const listed = config.replace('output [ { name: "OUTPUT" data_type: TYPE_INT32 dims: [ 1 ] } ]',
  'output [ { name: "OUTPUT" data_type: TYPE_INT32 dims: [ 1 ] }, { name: "OUTPUT_STATE" data_type: TYPE_INT32 dims: [ 1 ] } ]');

function send(url: string, model: string, id: unknown, value: number, flags: { start?: boolean; end?: boolean } = {}, outputs?: string[]): Promise<RawResponse> {
  return postJson(`${url}/v2/models/${model}/infer`, {
    inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1], data: [value] }],
    parameters: { sequence_id: id, sequence_start: flags.start === true, sequence_end: flags.end === true },
    ...(outputs ? { outputs: outputs.map((name) => ({ name })) } : {}),
  });
}
const outputsOf = (res: RawResponse): Record<string, number> => {
  assert.equal(res.status, 200, res.body.toString());
  return Object.fromEntries(jsonOf(res).outputs.map((o: { name: string; data: number[] }) => [o.name, o.data[0]]));
};

describe('implicit state', () => {
  let s: TestServer;
  let remove: () => void;
  before(async () => {
    const repo = makeRepository({
      accumulate: { from: 'sequence_accumulate', config },
      from_file: { from: 'sequence_accumulate', config: fromFile },
      listed: { from: 'sequence_accumulate', config: listed },
    });
    mkdirSync(path.join(repo.dir, 'from_file', 'initial_state'));
    writeFileSync(path.join(repo.dir, 'from_file', 'initial_state', 'hundred'), Buffer.from(Int32Array.of(100).buffer));
    remove = repo.remove;
    s = await startTestServer([`--model-repository=${repo.dir}`]);
    for (const m of s.server.registry.all()) assert.equal(m.reason, '', `${m.name}: ${m.reason}`);
  });
  after(async () => {
    await s?.close();
    remove?.();
  });

  test('keeps a running sum per sequence, and hides the state output it does not list', async () => {
    const sums = await Promise.all([1, 2].map(async (id) => {
      const out: Record<string, number>[] = [];
      for (const [i, v] of [1, 2, 3, 4].entries()) out.push(outputsOf(await send(s.url, 'accumulate', id, v * id, { start: i === 0, end: i === 3 })));
      return out;
    }));
    assert.deepEqual(sums[0], [{ OUTPUT: 1 }, { OUTPUT: 3 }, { OUTPUT: 6 }, { OUTPUT: 10 }]);
    assert.deepEqual(sums[1], [{ OUTPUT: 2 }, { OUTPUT: 6 }, { OUTPUT: 12 }, { OUTPUT: 20 }]);
  });

  test('starts again from the initial state at every START, the same id reused or not', async () => {
    assert.equal(outputsOf(await send(s.url, 'accumulate', 7, 5, { start: true })).OUTPUT, 5);
    assert.equal(outputsOf(await send(s.url, 'accumulate', 7, 5)).OUTPUT, 10);
    // A second START on the open sequence restarts its state (Triton's conflict case).
    assert.equal(outputsOf(await send(s.url, 'accumulate', 7, 5, { start: true })).OUTPUT, 5);
    assert.equal(outputsOf(await send(s.url, 'accumulate', 7, 1, { end: true })).OUTPUT, 6);
    assert.equal(outputsOf(await send(s.url, 'accumulate', 7, 1, { start: true, end: true })).OUTPUT, 1);
  });

  test('starts from the initial_state data_file in the model directory', async () => {
    assert.equal(outputsOf(await send(s.url, 'from_file', 3, 1, { start: true })).OUTPUT, 101);
    assert.equal(outputsOf(await send(s.url, 'from_file', 3, 2, { end: true })).OUTPUT, 103);
  });

  test('answers the state output to a client where config.pbtxt lists it under output', async () => {
    assert.deepEqual(outputsOf(await send(s.url, 'listed', 4, 2, { start: true })), { OUTPUT: 2, OUTPUT_STATE: 2 });
    assert.deepEqual(outputsOf(await send(s.url, 'listed', 4, 3, {}, ['OUTPUT'])), { OUTPUT: 5 });
    assert.deepEqual(outputsOf(await send(s.url, 'listed', 4, 1, { end: true }, ['OUTPUT_STATE'])), { OUTPUT_STATE: 6 });
  });

  test('hides the state tensors from the model metadata unless listed', async () => {
    const meta = await s.client.modelMetadata('accumulate') as { inputs: { name: string }[]; outputs: { name: string }[] };
    assert.deepEqual(meta.inputs.map((t) => t.name), ['INPUT']);
    assert.deepEqual(meta.outputs.map((t) => t.name), ['OUTPUT']);
  });
});
