import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jsonOf, postJson, simpleRequest } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer([`--model-repository=${repositoryOf('simple', 'all_types', 'versioned')}`]);
});

after(async () => {
  await s?.close();
});

const infer = async (path: string, body: unknown) => {
  const res = await postJson(`${s.url}${path}`, body);
  assert.equal(res.status, 200, res.body.toString());
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return jsonOf(res);
};

/** One value list per datatype, each value exact in JSON and in the type. */
const allTypesValues: Record<string, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 255, 7],
  UINT16: [0, 65535, 300],
  UINT32: [0, 4294967295, 70000],
  UINT64: [0, 2 ** 53 - 1, 12345],
  INT8: [-128, 127, 0],
  INT16: [-32768, 32767, -1],
  INT32: [-2147483648, 2147483647, 5],
  INT64: [-(2 ** 53 - 1), 2 ** 53 - 1, -7],
  FP16: [0.5, -2, 1024],
  FP32: [1.5, -0.25, 16777216],
  FP64: [0.1, -1e300, 2 ** 60],
  BYTES: ['a', '', 'üñí 🙂'],
};

// Answers and refusals that every transport shares are in test/api/conformance/.
describe('JSON inference', () => {
  test('accepts data nested to the shape', async () => {
    const rows = [sequence(1), sequence(1, 100)];
    const result = await infer('/v2/models/simple/infer', {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [2, 16], data: rows },
        { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], data: [new Array(16).fill(2), new Array(16).fill(3)] },
      ],
    });
    assert.deepEqual(result.outputs[0].data, [...rows[0].map((v) => v + 2), ...rows[1].map((v) => v + 3)]);
  });

  test('round-trips every datatype through the all_types model', async () => {
    const types = Object.keys(allTypesValues);
    const result = await infer('/v2/models/all_types/infer', {
      inputs: types.map((t) => ({ name: `IN_${t}`, datatype: t, shape: [1, 3], data: allTypesValues[t] })),
    });
    assert.equal(result.outputs.length, types.length);
    for (const t of types) {
      const out = result.outputs.find((o: { name: string }) => o.name === `OUT_${t}`);
      assert.ok(out, `OUT_${t}`);
      assert.equal(out.datatype, t);
      assert.deepEqual(out.shape, [1, 3]);
      assert.deepEqual(out.data, allTypesValues[t], t);
    }
  });
});

describe('concurrent JSON inference', () => {
  test('answers each of many concurrent requests with its own result', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const request = i % 2 === 0
        ? simpleRequest(1 + (i % 3), { id: `r${i}` })
        : { id: `r${i}`, inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [i] }] };
      return infer(i % 2 === 0 ? '/v2/models/simple/infer' : '/v2/models/versioned/infer', request);
    }));
    results.forEach((result, i) => {
      assert.equal(result.id, `r${i}`);
      const expected = i % 2 === 0 ? sequence(1 + (i % 3)).map((v) => v + 1) : [i * 3];
      assert.deepEqual(result.outputs[0].data, expected, `request ${i}`);
    });
  });
});
