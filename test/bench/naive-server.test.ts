import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startNaiveServer } from '../../bench/naive-server.ts';
import { floatToHalf, halfToFloat } from '../../src/dtypes.ts';
import { decodeInferResponse, encodeInferRequest, type ClientTensor, type InferOptions } from '../../src/client/index.ts';

type Server = Awaited<ReturnType<typeof startNaiveServer>>;

async function infer(port: number, inputs: ClientTensor[], options: InferOptions) {
  const { body, headers } = encodeInferRequest(inputs, options);
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/m/infer`, { method: 'POST', body: new Uint8Array(body), headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headerLength: res.headers.get('inference-header-content-length'), bytes };
}

describe('the naive server on simple (INT32 [1,16] add and subtract)', () => {
  let server: Server;
  before(async () => { server = await startNaiveServer('model_repository/simple/1/model.onnx', 0, 1); });
  after(() => server.close());
  const a = Int32Array.from({ length: 16 }, (_, i) => i);
  const b = new Int32Array(16).fill(10);
  const inputs = [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
  ];

  test('answers a binary request with binary outputs', async () => {
    const r = await infer(server.port, inputs, { binaryInputs: true, binaryOutputs: true });
    assert.equal(r.status, 200);
    assert.notEqual(r.headerLength, null);
    const out = decodeInferResponse(r.bytes, r.headerLength);
    const byName = Object.fromEntries(out.outputs.map((o) => [o.name, o]));
    assert.deepEqual(byName.OUTPUT0.shape, [1, 16]);
    assert.equal(byName.OUTPUT0.datatype, 'INT32');
    assert.deepEqual(Array.from(byName.OUTPUT0.data as Int32Array), Array.from(a, (v) => v + 10));
    assert.deepEqual(Array.from(byName.OUTPUT1.data as Int32Array), Array.from(a, (v) => v - 10));
  });

  test('answers a JSON request with JSON outputs, only those asked for, and echoes the id', async () => {
    const r = await infer(server.port, inputs, { id: 'req-7', outputs: ['OUTPUT1'] });
    assert.equal(r.status, 200);
    assert.equal(r.headerLength, null);
    const out = JSON.parse(r.bytes.toString());
    assert.equal(out.id, 'req-7');
    assert.deepEqual(out.outputs, [{ name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], data: Array.from(a, (v) => v - 10) }]);
  });

  test('answers a request with a wrong element count with 400 and an error message', async () => {
    const r = await infer(server.port, [{ ...inputs[0], shape: [1, 15] }, inputs[1]], {});
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.bytes.toString()).error, /INPUT0/);
  });
});

describe('the naive server on every datatype (the all_types identity fixture)', () => {
  let server: Server;
  before(async () => { server = await startNaiveServer('test/fixtures/models/all_types/1/model.onnx', 0, 1); });
  after(() => server.close());
  const values: Record<string, unknown[]> = {
    BOOL: [true, false, true], UINT8: [0, 7, 255], UINT16: [0, 9, 65535], UINT32: [0, 11, 4294967295],
    UINT64: [0, 13, 2 ** 40], INT8: [-128, 0, 127], INT16: [-32768, 5, 32767], INT32: [-(2 ** 31), 3, 2 ** 31 - 1],
    INT64: [-(2 ** 40), 0, 2 ** 40], FP16: [0.5, -2, 1024], FP32: [0.25, -1.5, 3e30], FP64: [1e-300, -2.5, 1e300],
    BYTES: ['a', '', 'héllo'],
  };
  // In binary, FP16 travels as raw IEEE half bits (the client takes a Uint16Array of them).
  const inputs = (binary: boolean) => Object.entries(values).map(([t, data]) => ({
    name: `IN_${t}`, datatype: t, shape: [1, 3],
    data: binary && t === 'FP16' ? Uint16Array.from(data as number[], floatToHalf) : data,
  }));

  for (const binary of [false, true]) {
    test(`sends every datatype back unchanged over ${binary ? 'binary' : 'JSON'}`, async () => {
      const r = await infer(server.port, inputs(binary), { binaryInputs: binary, binaryOutputs: binary });
      assert.equal(r.status, 200, r.bytes.toString());
      const out = decodeInferResponse(r.bytes, r.headerLength);
      assert.equal(out.outputs.length, Object.keys(values).length);
      for (const o of out.outputs) {
        const t = o.name.slice('OUT_'.length);
        assert.equal(o.datatype, t);
        assert.deepEqual(o.shape, [1, 3]);
        let got = Array.from(o.data as ArrayLike<unknown>);
        if (binary && t === 'BOOL') got = got.map(Boolean);
        if (binary && (t === 'UINT64' || t === 'INT64')) got = got.map(Number);
        if (binary && t === 'FP16') got = got.map((bits) => halfToFloat(bits as number));
        const want = t === 'FP32' ? Array.from(Float32Array.from(values.FP32 as number[])) : values[t];
        assert.deepEqual(got, want, t);
      }
    });
  }
});
