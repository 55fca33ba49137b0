import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { binaryBody, int32Bytes, jsonOf, postJson, request, simpleRequest, splitResponse } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity', 'all_types')}`]);
});

after(async () => {
  await s?.close();
});

const post = async (path: string, body: Buffer, headers: Record<string, string>) => {
  const res = await request(`${s.url}${path}`, { method: 'POST', body, headers });
  assert.equal(res.status, 200, res.body.toString());
  return res;
};

/** Length-prefixed BYTES elements, written by hand (not by the code under test). */
const prefixed = (values: readonly string[]): Buffer => Buffer.concat(values.flatMap((v) => {
  const bytes = Buffer.from(v, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(bytes.length);
  return [len, bytes];
}));

const allTypes: Record<string, ArrayBufferView | string[]> = {
  BOOL: new Uint8Array([1, 0, 1]),
  UINT8: new Uint8Array([0, 255, 9]),
  UINT16: new Uint16Array([0, 65535, 300]),
  UINT32: new Uint32Array([0, 4294967295, 70000]),
  UINT64: new BigUint64Array([0n, 2n ** 64n - 1n, 2n ** 53n + 1n]),
  INT8: new Int8Array([-128, 127, 0]),
  INT16: new Int16Array([-32768, 32767, -1]),
  INT32: new Int32Array([-2147483648, 2147483647, 5]),
  INT64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n]),
  FP16: new Uint16Array([0x3800, 0xc000, 0x6400]), // 0.5, -2, 1024
  FP32: new Float32Array([0.1, -3.5, 3.4e38]),
  FP64: new Float64Array([0.1, -1e300, Number.MIN_VALUE]),
  BYTES: ['a', '', '日本 🙂'],
};

const allTypesInputs = () => Object.entries(allTypes).map(([t, data]) => ({ name: `IN_${t}`, datatype: t, shape: [1, 3], data }));

// simple's answers in binary tensors are in test/api/conformance/ (the 'binary' encoding).
describe('binary tensor inference', () => {
  test('round-trips every datatype bit for bit, 64-bit integers beyond 2^53 included', async () => {
    const result = await s.client.infer('all_types', allTypesInputs(), { binaryInputs: true, binaryOutputs: true });
    for (const [t, data] of Object.entries(allTypes)) {
      const out = result.outputs.find((o) => o.name === `OUT_${t}`);
      assert.ok(out, `OUT_${t}`);
      assert.equal(out.datatype, t);
      assert.deepEqual(out.data, data, t);
    }
  });

  test('writes 64-bit integers beyond 2^53 exactly and FP16 as numbers when outputs are JSON', async () => {
    const { body, headers } = binaryBody({
      inputs: allTypesInputs().map(({ name, datatype, shape, data }) => ({
        name, datatype, shape, parameters: { binary_data_size: Array.isArray(data) ? prefixed(data).length : (data as ArrayBufferView).byteLength },
      })),
      outputs: [{ name: 'OUT_INT64' }, { name: 'OUT_UINT64' }, { name: 'OUT_FP16' }, { name: 'OUT_BOOL' }],
    }, Object.values(allTypes).map((d) => (Array.isArray(d) ? prefixed(d) : Buffer.from(d.buffer, d.byteOffset, d.byteLength))));
    const res = await post('/v2/models/all_types/infer', body, headers);
    const text = res.body.toString('utf8');
    assert.ok(text.includes('"data":[-9223372036854775808,9223372036854775807,9007199254740993]'), text);
    assert.ok(text.includes('"data":[0,18446744073709551615,9007199254740993]'), text);
    const outputs = JSON.parse(text).outputs;
    assert.deepEqual(outputs.find((o: { name: string }) => o.name === 'OUT_FP16').data, [0.5, -2, 1024]);
    assert.deepEqual(outputs.find((o: { name: string }) => o.name === 'OUT_BOOL').data, [true, false, true]);
  });

  test('reads and writes BYTES elements as 4-byte little-endian lengths and their bytes', async () => {
    const words = ['héllo', '', '🙂🙂', 'x'.repeat(300)];
    const { body, headers } = binaryBody({
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], parameters: { binary_data_size: prefixed(words).length } }],
      parameters: { binary_data_output: true },
    }, [prefixed(words)]);
    const res = await post('/v2/models/simple_identity/infer', body, headers);
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs, [{ name: 'OUTPUT0', datatype: 'BYTES', shape: [1, 4], parameters: { binary_data_size: prefixed(words).length } }]);
    assert.deepEqual(binary, prefixed(words));
  });

  test('accepts binary and JSON inputs in the same request', async () => {
    const { body, headers } = binaryBody({
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
      ],
    }, [int32Bytes(new Array(16).fill(10))]);
    const res = await post('/v2/models/simple/infer', body, headers);
    assert.deepEqual(jsonOf(res).outputs[0].data, sequence(1).map((v) => v + 10));
  });
});

describe('choosing binary or JSON outputs', () => {
  test('sends binary and JSON outputs side by side when each output says which it wants', async () => {
    const res = await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(1, {
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }, { name: 'OUTPUT1', parameters: { binary_data: false } }],
    }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs[0], { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } });
    assert.deepEqual(header.outputs[1].data, sequence(1).map((v) => v - 1));
    assert.deepEqual(binary, int32Bytes(sequence(1).map((v) => v + 1)));
  });

  test('sends every output in binary, in order, for binary_data_output', async () => {
    const res = await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(2, { parameters: { binary_data_output: true } }));
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs.map((o: { parameters: unknown }) => o.parameters), [{ binary_data_size: 128 }, { binary_data_size: 128 }]);
    assert.deepEqual(binary, Buffer.concat([int32Bytes(sequence(2).map((v) => v + 1)), int32Bytes(sequence(2).map((v) => v - 1))]));
  });

  test("lets an output's binary_data override the request's binary_data_output", async () => {
    const res = await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(1, {
      parameters: { binary_data_output: true },
      outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT1', parameters: { binary_data: false } }],
    }));
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs[0].parameters, { binary_data_size: 64 });
    assert.equal(header.outputs[0].data, undefined);
    assert.deepEqual(header.outputs[1].data, sequence(1).map((v) => v - 1));
    assert.equal(binary.length, 64);
  });

  test('answers plain JSON without the header length when no output is binary', async () => {
    const res = await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(1, { parameters: { binary_data_output: false } }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['inference-header-content-length'], undefined);
    assert.deepEqual(jsonOf(res).outputs[0].data, sequence(1).map((v) => v + 1));
  });
});
