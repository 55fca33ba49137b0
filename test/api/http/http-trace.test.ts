import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inferValue, outputValue, running, startRepoServer, until, type RepoServer } from '../../helpers/batching.ts';
import { slowConfig } from '../../helpers/repo.ts';
import { jsonOf, postJson, request, simpleRequest } from '../../helpers/http.ts';

const guard = { timeout: 60_000 };
const simpleConfig = `platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
dynamic_batching { }
`;
const models = {
  simple: { from: 'simple', config: simpleConfig },
  slow: { from: 'slow', config: slowConfig('dynamic_batching { default_queue_policy { allow_timeout_override: true } }') },
};
const ORDER = ['REQUEST_START', 'QUEUE_START', 'COMPUTE_START', 'COMPUTE_INPUT_END', 'COMPUTE_OUTPUT_START', 'COMPUTE_END', 'REQUEST_END'];

interface Trace {
  head: { id: number; model_name: string; model_version: number; request_id?: string };
  /** Timestamps in file order, ns as bigint (read from the text: they may pass 2^53). */
  stamps: [string, bigint][];
  tensors: { activity: string; tensor: { name: string; data: string; shape: string; dtype: string } }[];
}

/** The traces in a trace file (a JSON array in Triton's form), by id in order of appearance. */
function readTraces(file: string): Trace[] {
  const text = readFileSync(file, 'utf8');
  const items = JSON.parse(text) as any[];
  const byId = new Map<number, Trace>();
  for (const item of items) {
    if ('model_name' in item) byId.set(item.id, { head: item, stamps: [], tensors: [] });
    else if ('activity' in item) byId.get(item.id)!.tensors.push(item);
  }
  for (const [, id, name, ns] of text.matchAll(/\{"id":(\d+),"timestamps":\[\{"name":"(\w+)","ns":(\d+)\}\]\}/g)) {
    byId.get(Number(id))!.stamps.push([name, BigInt(ns)]);
  }
  return [...byId.values()];
}

const names = (t: Trace) => t.stamps.map(([n]) => n);
const at = (t: Trace, name: string) => t.stamps.find(([n]) => n === name)![1];

describe('trace extension', () => {
  let s: RepoServer;
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-trace-'));
    file = path.join(dir, 'trace.json');
    s = await startRepoServer(models, ['--trace-config', `triton,file=${file}`, '--trace-config', 'level=TIMESTAMPS', '--trace-config', 'rate=1']);
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const traces = async () => {
    await s.server.tracing.flush();
    return existsSync(file) ? readTraces(file) : [];
  };
  const setting = async (body?: unknown, model?: string) => {
    const url = model ? `${s.url}/v2/models/${model}/trace/setting` : `${s.url}/v2/trace/setting`;
    const res = body === undefined ? await request(url) : await postJson(url, body);
    assert.equal(res.status, 200, res.body.toString());
    return jsonOf(res);
  };
  const infer = async (id: string, rows = 1) => assert.equal((await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(rows, { id }))).status, 200);

  it("reports the start-up setting in Triton's fields, values as strings", guard, async () => {
    assert.deepEqual(await setting(), {
      trace_level: ['TIMESTAMPS'], trace_rate: '1', trace_count: '-1', log_frequency: '0', trace_file: file, trace_mode: 'triton',
    });
  });

  it('writes each sampled request with its timestamps in order, agreeing with the statistics', guard, async () => {
    await infer('first');
    await infer('second', 3);
    const written = await traces();
    assert.equal(written.length, 2);
    assert.deepEqual(written.map((t) => [t.head.model_name, t.head.model_version, t.head.request_id]), [['simple', 1, 'first'], ['simple', 1, 'second']]);
    for (const t of written) {
      assert.deepEqual(names(t), ORDER);
      for (let i = 1; i < t.stamps.length; i++) assert.ok(t.stamps[i][1] >= t.stamps[i - 1][1], `${t.stamps[i][0]} follows ${t.stamps[i - 1][0]}`);
      assert.ok(at(t, 'REQUEST_END') > at(t, 'REQUEST_START'));
    }
    // Each request ran alone, so its compute instants carry exactly the statistics' durations.
    const stats = jsonOf(await request(`${s.url}/v2/models/simple/stats`)).model_stats[0].inference_stats;
    const sum = (from: string, to: string) => written.reduce((n, t) => n + (at(t, to) - at(t, from)), 0n);
    assert.equal(sum('COMPUTE_START', 'COMPUTE_INPUT_END'), BigInt(stats.compute_input.ns));
    assert.equal(sum('COMPUTE_OUTPUT_START', 'COMPUTE_END'), BigInt(stats.compute_output.ns));
    assert.equal(sum('REQUEST_START', 'COMPUTE_START'), BigInt(stats.queue.ns));
    assert.equal(sum('REQUEST_START', 'COMPUTE_END'), BigInt(stats.success.ns));
  });

  it('writes a request that timed out in the queue with its start and end only', guard, async () => {
    const before = (await traces()).length;
    const busy = inferValue(s.url, 'slow', 1);
    await until(() => running(s, 'slow'));
    assert.equal((await inferValue(s.url, 'slow', 2, { timeout: 30_000 })).status, 503);
    assert.equal(outputValue(await busy), 1);
    const written = (await traces()).slice(before);
    assert.equal(written.length, 2);
    const late = written.find((t) => names(t).length === 3)!;
    assert.deepEqual(names(late), ['REQUEST_START', 'QUEUE_START', 'REQUEST_END']);
    assert.equal(late.head.model_name, 'slow');
  });

  it("lets a model have its own level, and follows the global one again once it is cleared", guard, async () => {
    assert.deepEqual((await setting({ trace_level: ['OFF'] }, 'simple')).trace_level, ['OFF']);
    assert.deepEqual((await setting()).trace_level, ['TIMESTAMPS']);
    const before = (await traces()).length;
    await infer('untraced');
    assert.equal(outputValue(await inferValue(s.url, 'slow', 3)), 3);
    const written = (await traces()).slice(before);
    assert.deepEqual(written.map((t) => t.head.model_name), ['slow']);
    assert.deepEqual((await setting({ trace_level: null }, 'simple')).trace_level, ['TIMESTAMPS']);
    await infer('traced-again');
    assert.deepEqual((await traces()).slice(before).map((t) => t.head.request_id ?? t.head.model_name), ['slow', 'traced-again']);
  });

  it('traces every rate-th request while the count lasts, counting down trace_count', guard, async () => {
    const updated = await setting({ trace_rate: '2', trace_count: '2' });
    assert.deepEqual([updated.trace_rate, updated.trace_count], ['2', '2']);
    const before = (await traces()).length;
    for (let i = 1; i <= 6; i++) await infer(`r${i}`);
    assert.deepEqual((await traces()).slice(before).map((t) => t.head.request_id), ['r2', 'r4']);
    assert.equal((await setting()).trace_count, '0');
    await setting({ trace_rate: '1', trace_count: '-1' });
  });

  it('records input and output tensors at level TENSORS', guard, async () => {
    await setting({ trace_level: ['TIMESTAMPS', 'TENSORS'] });
    const before = (await traces()).length;
    await infer('tensors');
    const [t] = (await traces()).slice(before);
    const input0 = t.tensors.find((x) => x.activity === 'TENSOR_QUEUE_INPUT' && x.tensor.name === 'INPUT0')!;
    assert.deepEqual(input0.tensor, { name: 'INPUT0', data: Array.from({ length: 16 }, (_, i) => i).join(','), shape: '1,16', dtype: 'INT32' });
    const output0 = t.tensors.find((x) => x.activity === 'TENSOR_BACKEND_OUTPUT' && x.tensor.name === 'OUTPUT0')!;
    assert.deepEqual(output0.tensor, { name: 'OUTPUT0', data: Array.from({ length: 16 }, (_, i) => i + 1).join(','), shape: '1,16', dtype: 'INT32' });
    assert.deepEqual(names(t), ORDER);
    await setting({ trace_level: ['TIMESTAMPS'] });
  });

  it('writes every log_frequency traces into an indexed file', guard, async () => {
    await setting({ log_frequency: '2' });
    for (let i = 1; i <= 3; i++) await infer(`f${i}`);
    await s.server.tracing.flush();
    assert.deepEqual(readTraces(`${file}.0`).map((t) => t.head.request_id), ['f1', 'f2']);
    assert.equal(existsSync(`${file}.1`), false, 'the third waits for a second one');
    await setting({ log_frequency: '0' });
  });

  const bad: [string, unknown, number, RegExp][] = [
    ['a new trace file', { trace_file: '/tmp/x.json' }, 501, /trace file location can not be updated through network protocol/],
    ['a rate as a number', { trace_rate: 5 }, 400, /'trace_rate' must be a string \(or null to clear it\), got number/],
    ['a rate that is not a number', { trace_rate: 'often' }, 400, /Unable to parse 'trace_rate', got: often/],
    ['a negative rate', { trace_rate: '-1' }, 400, /Unable to parse 'trace_rate', value is out of range \[ 0, 4294967295 \], got: -1/],
    ['a count below -1', { trace_count: '-2' }, 400, /Unable to parse 'trace_count', value is out of range \[ -1, 2147483647 \], got: -2/],
    ['a log frequency that is not a number', { log_frequency: '1.5' }, 400, /Unable to parse 'log_frequency', got: 1\.5/],
    ['a level that is not a list', { trace_level: 'TIMESTAMPS' }, 400, /'trace_level' must be an array of strings/],
    ['an empty level list', { trace_level: [] }, 400, /'trace_level' must be an array of strings/],
    ['OFF with another level', { trace_level: ['OFF', 'TIMESTAMPS'] }, 400, /expect only one trace level 'OFF' is specified/],
    ['an unknown level', { trace_level: ['LOUD'] }, 400, /unknown trace level 'LOUD'/],
    ['another trace mode', { trace_mode: 'opentelemetry' }, 400, /'trace_mode' can not be changed at run time/],
    ['an unknown setting', { trace_ratio: '1' }, 400, /unknown trace setting 'trace_ratio'/],
    ['an array', ['TIMESTAMPS'], 400, /trace setting request must be a JSON object/],
    ['malformed JSON', '{"trace_rate"', 400, /invalid JSON/],
  ];
  for (const [what, body, status, message] of bad) {
    it(`refuses ${what} with ${status} and a message, changing nothing`, guard, async () => {
      const before = await setting();
      const res = await postJson(`${s.url}/v2/trace/setting`, body);
      assert.equal(res.status, status);
      assert.match(jsonOf(res).error, message);
      assert.deepEqual(await setting(), before);
    });
  }

  it('answers 404 for the trace setting of an unknown model', guard, async () => {
    for (const res of [await request(`${s.url}/v2/models/nope/trace/setting`), await postJson(`${s.url}/v2/models/nope/trace/setting`, { trace_rate: '1' })]) {
      assert.equal(res.status, 404);
      assert.equal(jsonOf(res).error, "Request for unknown model: 'nope' is not found");
    }
  });
});

describe('trace defaults', () => {
  it("are Triton's: OFF, every 1000th request, no count limit, no file", guard, async () => {
    const s = await startRepoServer({ simple: models.simple });
    try {
      assert.deepEqual(jsonOf(await request(`${s.url}/v2/trace/setting`)), {
        trace_level: ['OFF'], trace_rate: '1000', trace_count: '-1', log_frequency: '0', trace_file: '', trace_mode: 'triton',
      });
      assert.ok(jsonOf(await request(`${s.url}/v2`)).extensions.includes('trace'));
    } finally {
      await s.close();
    }
  });
});
