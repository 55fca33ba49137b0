import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CancelSource } from '../../src/inference/index.ts';
import { ModelStatistics } from '../../src/observability/index.ts';
import { SequenceScheduler } from '../../src/scheduler/sequence-scheduler.ts';
import { fakeConfig, fakeInstances, fakeRequest, outputOf } from '../helpers/fake-instance.ts';
import { until } from '../helpers/batching.ts';

const seq = (id: number, flags: { start?: boolean; end?: boolean } = {}) => ({ sequence_id: id, sequence_start: flags.start === true, sequence_end: flags.end === true });

function scheduler(extra = '', maxBatchSize = 8, ...names: string[]) {
  const { set, instances } = fakeInstances(...(names.length > 0 ? names : ['g_0']));
  const stats = new ModelStatistics();
  return { s: new SequenceScheduler(fakeConfig(`sequence_batching { ${extra} }`, maxBatchSize), 1, set, stats), instances, stats };
}

describe('SequenceScheduler', () => {
  test('runs the requests of one sequence one at a time, in order, even with instances free', async () => {
    const { s, instances } = scheduler('', 8, 'g_0', 'g_1');
    const first = s.enqueue(fakeRequest(1, seq(5, { start: true })));
    const second = s.enqueue(fakeRequest(2, seq(5, { end: true })));
    await until(() => instances.flatMap((i) => i.runs).length === 1);
    assert.equal(s.pendingCount(), 1, 'the second waits for the first');
    instances.flatMap((i) => i.runs)[0].finish();
    assert.equal(outputOf(await first), 1);
    await until(() => instances.flatMap((i) => i.runs).length === 2);
    instances.flatMap((i) => i.runs)[1].finish();
    assert.equal(outputOf(await second), 2);
    await s.stop();
  });

  test('withdraws a waiting request whose caller gave up, as CANCELLED, and goes on', async () => {
    const { s, instances, stats } = scheduler('', 1);
    const first = s.enqueue(fakeRequest(1, seq(7, { start: true })));
    const cancel = new CancelSource();
    const second = s.enqueue(fakeRequest(2, seq(7)), { signal: cancel.signal });
    await until(() => instances[0].runs.length === 1);
    cancel.abort();
    await assert.rejects(second, { reason: 'REQUEST_CANCELLED' });
    assert.equal(stats.failReasons.CANCELED, 1);
    instances[0].runs[0].finish();
    assert.equal(outputOf(await first), 1);
    const third = s.enqueue(fakeRequest(3, seq(7, { end: true })));
    await until(() => instances[0].runs.length === 2);
    instances[0].runs[1].finish();
    assert.equal(outputOf(await third), 3);
    assert.deepEqual(s.sequenceCounts(), { active: 0, backlog: 0 });
    await s.stop();
  });

  test('feeds the configured controls, in their types, with their values', async () => {
    const { s, instances } = scheduler(`control_input [
      { name: "S" control [ { kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] } ] },
      { name: "C" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_INT64 } ] } ]`);
    const done = s.enqueue(fakeRequest(1, seq(2 ** 33, { start: true, end: true })));
    await until(() => instances[0].runs.length === 1);
    const batch = instances[0].runs[0].batch;
    assert.deepEqual(batch.inputs.map((t) => [t.name, t.type, t.dims]), [['INPUT0', 'float32', [1, 1]], ['S', 'float32', [1, 1]], ['C', 'int64', [1, 1]]]);
    const slot = instances[0].ring.bytes(batch.slot);
    const at = (name: string) => {
      const t = batch.inputs.find((i) => i.name === name) as unknown as { offset: number; byteLength: number };
      return slot.slice(t.offset, t.offset + t.byteLength).buffer;
    };
    assert.equal(new Float32Array(at('S'))[0], 1);
    assert.equal(new BigInt64Array(at('C'))[0], 2n ** 33n);
    instances[0].runs[0].finish();
    await done;
    await s.stop();
  });
});
