import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeModel } from '../../tools/onnx-writer.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { binaryBody, request, splitResponse } from '../helpers/http.ts';
import { assembleBatch, slotBytesFor } from '../../src/scheduler/batch-assembly.ts';
import { normalizeConfig } from '../../src/model-config/normalize-config.ts';
import { isSlotTensor } from '../../src/shm/index.ts';

// An FP32 identity with a variable dim: its ring slots get the default size (4 MiB), so a
// large enough batch cannot fit one and must take the slow path.
const config = `name: "ident"
platform: "onnxruntime_onnx"
max_batch_size: 4
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
dynamic_batching { }
`;

describe('tensor plane', () => {
  let dir: string;
  let s: TestServer;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-plane-'));
    mkdirSync(path.join(dir, 'ident', '1'), { recursive: true });
    writeFileSync(path.join(dir, 'ident', '1', 'model.onnx'), writeModel({
      inputs: [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', 'n'] }],
      outputs: [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', 'n'] }],
      nodes: [{ opType: 'Identity', inputs: ['INPUT0'], outputs: ['OUTPUT0'] }],
    }));
    writeFileSync(path.join(dir, 'ident', 'config.pbtxt'), config);
    s = await startTestServer([`--model-repository=${dir}`]);
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const infer = async (n: number) => {
    const values = Float32Array.from({ length: n }, (_, i) => i * 0.25 - 7);
    const { body, headers } = binaryBody({
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, n], parameters: { binary_data_size: values.byteLength } }],
      parameters: { binary_data_output: true },
    }, [new Uint8Array(values.buffer)]);
    const res = await request(`${s.url}/v2/models/ident/infer`, { method: 'POST', body, headers });
    assert.equal(res.status, 200, res.body.toString().slice(0, 200));
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs[0].shape, [1, n]);
    assert.deepEqual(new Float32Array(Uint8Array.from(binary).buffer), values);
  };

  it('runs a batch that fits its ring slot', async () => {
    await infer(1000);
  });

  it('runs a batch larger than its ring slot through the slow path, with the same results', async () => {
    await infer(2 * 1024 * 1024); // 8 MiB of FP32, twice the slot
    await infer(1000); // and the ring is still sound afterwards
  });

  it('sizes slots for a full batch when every dim is fixed, and lays inputs out aligned', () => {
    const model = normalizeConfig({
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 8,
      input: [{ name: 'A', data_type: 'TYPE_FP32', dims: [3] }, { name: 'B', data_type: 'TYPE_INT8', dims: [5] }],
      output: [{ name: 'C', data_type: 'TYPE_FP32', dims: [2] }],
    }, { modelName: 'm', gpus: [], io: null });
    assert.equal(slotBytesFor(model, 1 << 22), 4096, 'small models get a 4 KiB floor');
    const big = normalizeConfig({
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 8,
      input: [{ name: 'A', data_type: 'TYPE_FP32', dims: [300] }, { name: 'B', data_type: 'TYPE_INT8', dims: [5] }],
      output: [{ name: 'C', data_type: 'TYPE_FP32', dims: [2] }],
    }, { modelName: 'm', gpus: [], io: null });
    assert.equal(slotBytesFor(big, 1 << 22), 9600 + 64 + 64);
    const variable = normalizeConfig({
      name: 'm', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 8,
      input: [{ name: 'A', data_type: 'TYPE_FP32', dims: [-1] }], output: [{ name: 'C', data_type: 'TYPE_FP32', dims: [2] }],
    }, { modelName: 'm', gpus: [], io: null });
    assert.equal(slotBytesFor(variable, 1 << 22), 1 << 22);
    const slot = new Uint8Array(256);
    const requests = [1, 2].map((rows, r) => [
      { name: 'A', datatype: 'FP32', shape: [rows, 3], data: { kind: 'raw', bytes: new Uint8Array(new Float32Array(rows * 3).fill(r + 1).buffer) } as const },
      { name: 'B', datatype: 'INT8', shape: [rows, 5], data: { kind: 'raw', bytes: new Uint8Array(new Int8Array(rows * 5).fill(r + 1).buffer) } as const },
    ]);
    const batch = assembleBatch(model, requests, slot);
    assert.equal(batch.inSlot, true);
    const [a, b] = batch.inputs;
    assert.ok(isSlotTensor(a) && isSlotTensor(b));
    assert.deepEqual([a.offset, a.byteLength, a.dims], [0, 36, [3, 3]]);
    assert.deepEqual([b.offset, b.byteLength, b.dims], [64, 15, [3, 5]]);
    assert.deepEqual([...new Float32Array(slot.buffer, 0, 9)], [1, 1, 1, 2, 2, 2, 2, 2, 2]);
    assert.deepEqual([...new Int8Array(slot.buffer, 64, 15)], [...Array(5).fill(1), ...Array(10).fill(2)]);
    const small = assembleBatch(model, requests, new Uint8Array(64));
    assert.equal(small.inSlot, false);
    assert.ok(small.inputs.every((t) => !isSlotTensor(t)));
  });
});
