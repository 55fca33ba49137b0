/**
 * The sequence batcher end to end, with the example models Triton's client examples use:
 * `simple_sequence` (direct; OUTPUT = INPUT + START) and `simple_dyna_sequence` (oldest; the END
 * request also adds CORRID) and `simple_string_dyna_sequence` (a string CORRID, a running sum in
 * implicit state), over HTTP, gRPC unary calls and gRPC streams; Triton's errors; a
 * sequence waiting in the backlog for a slot; and the idle timeout that frees a slot.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRepoServer, until, type RepoServer } from '../helpers/batching.ts';
import { jsonOf, postJson, type RawResponse } from '../helpers/http.ts';
import { EXAMPLE_MODELS } from '../helpers/server.ts';
import { GrpcClient } from '../../src/client/index.ts';
import type { SequenceScheduler } from '../../src/scheduler/sequence-scheduler.ts';

// The values of Triton's sequence client examples, and what each model answers for them.
const values = [0, 11, 7, 5, 3, 2, 0, 1];
const expectedSimple = (start: number) => [start + 1, ...values.slice(1)];
/** -v, without the -0 that deepEqual tells from 0. */
const neg = (v: number) => (v === 0 ? 0 : -v);
const exampleConfig = (model: string) => readFileSync(path.join(EXAMPLE_MODELS, model, 'config.pbtxt'), 'utf8').replace(/^name: .*\n/m, '');
const withIdle = (config: string, us: number) => config.replace('sequence_batching {', `sequence_batching {\n  max_sequence_idle_microseconds: ${us}`);

function send(url: string, model: string, id: unknown, value: number, flags: { start?: boolean; end?: boolean } = {}, rows = 1): Promise<RawResponse> {
  const parameters: Record<string, unknown> = { sequence_id: id };
  if (flags.start !== undefined) parameters.sequence_start = flags.start;
  if (flags.end !== undefined) parameters.sequence_end = flags.end;
  return postJson(`${url}/v2/models/${model}/infer`, { inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [rows, 1], data: new Array(rows).fill(value) }], parameters });
}
const output = (res: RawResponse): number => {
  assert.equal(res.status, 200, res.body.toString());
  return jsonOf(res).outputs[0].data[0];
};
const errorOf = (res: RawResponse): string => {
  assert.equal(res.status, 400, res.body.toString());
  return jsonOf(res).error;
};

/** Sends `values` as one sequence over HTTP, one request after another. */
async function sequenceOverHttp(url: string, model: string, id: unknown, inputs: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < inputs.length; i++) out.push(output(await send(url, model, id, inputs[i], { start: i === 0, end: i === inputs.length - 1 })));
  return out;
}

describe('sequence batching', () => {
  let s: RepoServer;
  let grpc: GrpcClient;
  before(async () => {
    s = await startRepoServer({
      simple_sequence: { from: 'simple_sequence', config: exampleConfig('simple_sequence') },
      simple_dyna_sequence: { from: 'simple_dyna_sequence', config: exampleConfig('simple_dyna_sequence') },
      simple_string_dyna_sequence: { from: 'simple_string_dyna_sequence', config: exampleConfig('simple_string_dyna_sequence') },
      // One slot: one instance, one row.
      one_slot: { from: 'simple_sequence', config: exampleConfig('simple_sequence').replace('max_batch_size: 8', 'max_batch_size: 1') },
      short_idle: { from: 'simple_sequence', config: withIdle(exampleConfig('simple_sequence'), 20_000) },
      // Two slots; a batch waits (up to 60 s, a guard) until both have a request.
      full_slots: {
        from: 'simple_sequence',
        config: exampleConfig('simple_sequence').replace('max_batch_size: 8', 'max_batch_size: 2')
          .replace('sequence_batching {', 'sequence_batching {\n  direct { max_queue_delay_microseconds: 60000000 minimum_slot_utilization: 1.0 }'),
      },
    }, ['--grpc-address=127.0.0.1']);
    grpc = new GrpcClient(`127.0.0.1:${s.server.grpcPort}`);
  });
  after(async () => {
    grpc?.close();
    await s?.close();
  });

  test("advertises Triton's sequence extensions, and hides the control inputs from the model's metadata", async () => {
    const meta = await s.client.serverMetadata() as { extensions: string[] };
    assert.ok(meta.extensions.includes('sequence'));
    assert.ok(meta.extensions.includes('sequence(string_id)'));
    const model = await s.client.modelMetadata('simple_dyna_sequence') as { inputs: { name: string }[] };
    assert.deepEqual(model.inputs.map((i) => i.name), ['INPUT']);
  });

  test('feeds START and READY over HTTP, as simple_sequence answers the client examples', async () => {
    assert.deepEqual(await sequenceOverHttp(s.url, 'simple_sequence', 1000, values), expectedSimple(0));
    assert.deepEqual(await sequenceOverHttp(s.url, 'simple_sequence', 1001, [100, ...values.slice(1).map(neg)]), [101, ...values.slice(1).map(neg)]);
  });

  test('feeds END and CORRID under the oldest strategy: the last request adds its correlation id', async () => {
    const [a, b] = await Promise.all([
      sequenceOverHttp(s.url, 'simple_dyna_sequence', 1000, values),
      sequenceOverHttp(s.url, 'simple_dyna_sequence', 1001, [100, ...values.slice(1).map(neg)]),
    ]);
    assert.deepEqual(a, [...expectedSimple(0).slice(0, -1), 1 + 1000]);
    assert.deepEqual(b, [101, ...values.slice(1, -1).map(neg), -1 + 1001]);
  });

  test('simple_string_dyna_sequence sums a sequence under a string id and adds the id at the end, as the -d examples check', async () => {
    // The -d runs send [20, -11, -7, ...] under the string id "1002" and expect a running sum,
    // with int("1002") added to the last answer.
    const inputs = [20, ...values.slice(1).map(neg)];
    const sums = inputs.map((_, i) => inputs.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const expected = [...sums.slice(0, -1), sums[sums.length - 1] + 1002];
    assert.deepEqual(await sequenceOverHttp(s.url, 'simple_string_dyna_sequence', '1002', inputs), expected);
    // The sum starts again at the next START, under the same id.
    assert.deepEqual(await sequenceOverHttp(s.url, 'simple_string_dyna_sequence', '1002', [5, 6]), [5, 11 + 1002]);
  });

  test('simple_string_dyna_sequence keeps one sum per string id when two sequences interleave on a gRPC stream', async () => {
    const stream = grpc.stream();
    const ids = ['1007', '1008'];
    const inputs: Record<string, number[]> = { 1007: [20, -11, -7, -1], 1008: [300, 1, 2, 3] };
    for (let i = 0; i < 4; i++) {
      for (const id of ids) {
        stream.send('simple_string_dyna_sequence', [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1], data: [inputs[id][i]] }], {
          id: `${id}-${i}`, parameters: { sequence_id: id, sequence_start: i === 0, sequence_end: i === 3 },
        });
      }
    }
    const got = new Map<string, number[]>(ids.map((id) => [id, []]));
    for (let n = 0; n < 8; n++) {
      const r = await stream.next();
      assert.equal(r.error, null);
      got.get(r.id.split('-')[0])!.push((r.result!.outputs[0].data as Int32Array)[0]);
    }
    await stream.end();
    assert.deepEqual(got.get('1007'), [20, 9, 2, 1 + 1007]);
    assert.deepEqual(got.get('1008'), [300, 301, 303, 306 + 1008]);
  });

  test('runs concurrent sequences of the direct strategy side by side, each in its own slot', async () => {
    const ids = [4001, 4002, 4003, 4004];
    const results = await Promise.all(ids.map((id) => sequenceOverHttp(s.url, 'simple_sequence', id, [id, 1, 2, 3])));
    results.forEach((r, k) => assert.deepEqual(r, [ids[k] + 1, 1, 2, 3]));
  });

  test('holds a direct batch until minimum_slot_utilization of the slots have a request', async () => {
    const scheduler = s.scheduler('full_slots') as unknown as SequenceScheduler;
    const stats = s.stats('full_slots');
    const first = send(s.url, 'full_slots', 1, 10, { start: true, end: true });
    await until(() => scheduler.pendingCount() === 1);
    assert.equal(stats.executionCount, 0, 'one slot of two is not enough');
    const second = send(s.url, 'full_slots', 2, 20, { start: true, end: true });
    assert.deepEqual([output(await first), output(await second)], [11, 21]);
    assert.equal(stats.executionCount, 1);
    assert.deepEqual(stats.batchStats().map((b) => b.batch_size), [2]);
  });

  test('takes uint64 ids over gRPC unary calls, and string ids where the model has no CORRID', async () => {
    const run = async (id: number | string) => {
      const out: number[] = [];
      for (let i = 0; i < values.length; i++) {
        const result = await grpc.infer('simple_sequence', [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1], data: [values[i]] }], {
          parameters: { sequence_id: id, sequence_start: i === 0, sequence_end: i === values.length - 1 },
        });
        out.push((result.outputs[0].data as Int32Array)[0]);
      }
      return out;
    };
    assert.deepEqual(await run(2 ** 40), expectedSimple(0));
    assert.deepEqual(await run('e333c95a-07fc-42d2-ab16-033b1a566ed5'), expectedSimple(0));
  });

  test('runs two sequences sent all at once on one gRPC stream, each in order', async () => {
    const stream = grpc.stream();
    for (let i = 0; i < values.length; i++) {
      for (const [id, base] of [[2000, 0], [2001, 100]] as const) {
        const value = i === 0 ? base : (base === 0 ? values[i] : neg(values[i]));
        stream.send('simple_dyna_sequence', [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1], data: [value] }], {
          id: `${id}-${i}`, parameters: { sequence_id: id, sequence_start: i === 0, sequence_end: i === values.length - 1 },
        });
      }
    }
    const got = new Map<number, number[]>([[2000, []], [2001, []]]);
    for (let n = 0; n < values.length * 2; n++) {
      const r = await stream.next();
      assert.equal(r.error, null);
      got.get(Number(r.id.split('-')[0]))!.push((r.result!.outputs[0].data as Int32Array)[0]);
    }
    await stream.end();
    assert.deepEqual(got.get(2000), [...expectedSimple(0).slice(0, -1), 1 + 2000]);
    assert.deepEqual(got.get(2001), [101, ...values.slice(1, -1).map(neg), -1 + 2001]);
  });

  test("refuses requests the sequence batcher cannot take, with Triton's messages", async () => {
    const model = 'simple_dyna_sequence';
    assert.equal(errorOf(await send(s.url, model, 0, 1, { start: true })), `inference request to model '${model}' must specify a non-zero or non-empty correlation ID`);
    assert.equal(errorOf(await postJson(`${s.url}/v2/models/${model}/infer`, { inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1, 1], data: [1] }] })),
      `inference request to model '${model}' must specify a non-zero or non-empty correlation ID`);
    assert.equal(errorOf(await send(s.url, model, 77, 1)), `inference request for sequence 77 to model '${model}' must specify the START flag on the first request of the sequence`);
    assert.equal(errorOf(await send(s.url, model, 78, 1, { start: true }, 2)), `inference request to model '${model}' must specify batch-size 1 due to requirements of sequence batcher`);
    assert.equal(errorOf(await send(s.url, model, 'abc', 1, { start: true })), `[request id: <id_unknown>] sequence batching control 'CORRID' data-type is 'BYTES', but model '${model}' expects 'UINT64'`);
    assert.match(errorOf(await send(s.url, model, -4, 1, { start: true })), /sequence_id must be an unsigned integer or a string/);
    assert.match(errorOf(await send(s.url, model, 79, 1, { start: 'yes' as unknown as boolean })), /sequence_start must be a boolean/);
    assert.match(errorOf(await send(s.url, model, 2 ** 60, 1, { start: true })), /sequence_id above 2\^53 - 1 cannot be read exactly from a JSON number/);
  });

  test('continues an open sequence that gets a second START, as Triton does', async () => {
    assert.equal(output(await send(s.url, 'simple_sequence', 3000, 5, { start: true })), 6);
    assert.equal(output(await send(s.url, 'simple_sequence', 3000, 5, { start: true })), 6);
    assert.equal(output(await send(s.url, 'simple_sequence', 3000, 5, { end: true })), 5);
    assert.match(errorOf(await send(s.url, 'simple_sequence', 3000, 5)), /must specify the START flag/);
  });

  test('keeps a sequence that finds no free slot in the backlog until one ends', async () => {
    const scheduler = s.scheduler('one_slot') as unknown as SequenceScheduler;
    assert.equal(output(await send(s.url, 'one_slot', 1, 10, { start: true })), 11);
    const waiting = send(s.url, 'one_slot', 2, 20, { start: true });
    await until(() => scheduler.sequenceCounts().backlog === 1);
    assert.equal(scheduler.pendingCount(), 1);
    assert.equal(output(await send(s.url, 'one_slot', 1, 3, { end: true })), 3);
    assert.equal(output(await waiting), 21);
    assert.equal(output(await send(s.url, 'one_slot', 2, 4, { end: true })), 4);
    await until(() => scheduler.sequenceCounts().active === 0);
  });

  test('frees the slot of a sequence idle for max_sequence_idle_microseconds', async () => {
    const scheduler = s.scheduler('short_idle') as unknown as SequenceScheduler;
    assert.equal(output(await send(s.url, 'short_idle', 9, 1, { start: true })), 2);
    await until(() => scheduler.sequenceCounts().active === 0);
    assert.match(errorOf(await send(s.url, 'short_idle', 9, 1)), /inference request for sequence 9 to model 'short_idle' must specify the START flag/);
  });
});
