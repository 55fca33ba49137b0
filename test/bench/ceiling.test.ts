import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureCeiling, measureCeilingAtBatches, sampleTensor } from '../../bench/ceiling.ts';

const simple = 'model_repository/simple/1/model.onnx';
const simpleInputs = [
  { name: 'INPUT0', datatype: 'INT32', dims: [16] },
  { name: 'INPUT1', datatype: 'INT32', dims: [16] },
];

test('measureCeilingAtBatches runs simple at each batch size with one session', async () => {
  const results = await measureCeilingAtBatches(simple, simpleInputs, [1, 4], 1, 100);
  assert.deepEqual(results.map((r) => r.batch), [1, 4]);
  for (const r of results) assert.ok(r.throughput > 0 && Number.isFinite(r.throughput), `batch ${r.batch}: ${r.throughput}`);
});

test('measureCeiling feeds BYTES inputs as strings (simple_string)', async () => {
  const throughput = await measureCeiling('model_repository/simple_string/1/model.onnx', simpleInputs.map((i) => ({ ...i, datatype: 'BYTES' })), 2, 1, 50);
  assert.ok(throughput > 0 && Number.isFinite(throughput));
});

test('sampleTensor makes a tensor of the runtime type and the batched shape', () => {
  const cases = [
    { datatype: 'FP32', type: 'float32' }, { datatype: 'FP16', type: 'float16' }, { datatype: 'INT64', type: 'int64' },
    { datatype: 'UINT8', type: 'uint8' }, { datatype: 'BOOL', type: 'bool' }, { datatype: 'BYTES', type: 'string' },
  ];
  for (const c of cases) {
    const t = sampleTensor({ name: 'x', datatype: c.datatype, dims: [2, 3] }, 4);
    assert.equal(t.type, c.type, c.datatype);
    assert.deepEqual(t.dims, [4, 2, 3], c.datatype);
    assert.equal(t.size, 24, c.datatype);
  }
  assert.throws(() => sampleTensor({ name: 'x', datatype: 'BF16', dims: [1] }, 1), /cannot feed datatype BF16/);
});
