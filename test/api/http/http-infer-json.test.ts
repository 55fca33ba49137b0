import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jsonOf, postJson, simpleRequest } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity', 'simple_string', 'all_types', 'versioned', 'whole_shape')}`]);
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

describe('JSON inference', () => {
  test('adds and subtracts a batch of one with the simple model', async () => {
    const result = await infer('/v2/models/simple/infer', simpleRequest(1));
    assert.equal(result.model_name, 'simple');
    assert.equal(result.model_version, '1');
    assert.equal(result.id, undefined);
    assert.deepEqual(result.outputs, [
      { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1).map((v) => v + 1) },
      { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], data: sequence(1).map((v) => v - 1) },
    ]);
  });

  test('adds and subtracts each row of a batch of three', async () => {
    const result = await infer('/v2/models/simple/infer', simpleRequest(3));
    assert.deepEqual(result.outputs[0].shape, [3, 16]);
    assert.deepEqual(result.outputs[0].data, sequence(3).map((v) => v + 1));
    assert.deepEqual(result.outputs[1].data, sequence(3).map((v) => v - 1));
  });

  test('echoes the request id', async () => {
    const result = await infer('/v2/models/simple/infer', simpleRequest(1, { id: 'req-42 ✓' }));
    assert.equal(result.id, 'req-42 ✓');
  });

  test('returns only the outputs asked for', async () => {
    const result = await infer('/v2/models/simple/infer', simpleRequest(1, { outputs: [{ name: 'OUTPUT1' }] }));
    assert.deepEqual(result.outputs.map((o: { name: string }) => o.name), ['OUTPUT1']);
    assert.deepEqual(result.outputs[0].data, sequence(1).map((v) => v - 1));
  });

  test('returns every output when the outputs list is empty', async () => {
    const result = await infer('/v2/models/simple/infer', simpleRequest(1, { outputs: [] }));
    assert.deepEqual(result.outputs.map((o: { name: string }) => o.name), ['OUTPUT0', 'OUTPUT1']);
  });

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

  test('adds and subtracts decimal strings with simple_string', async () => {
    const a = sequence(1).map(String);
    const b = sequence(1).map((v) => String(v * 10));
    const result = await infer('/v2/models/simple_string/infer', {
      inputs: [
        { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], data: a },
        { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], data: b },
      ],
    });
    assert.equal(result.outputs[0].datatype, 'BYTES');
    assert.deepEqual(result.outputs[0].data, sequence(1).map((v) => String(v * 11)));
    assert.deepEqual(result.outputs[1].data, sequence(1).map((v) => String(-v * 9)));
  });

  test('returns unicode strings unchanged from simple_identity', async () => {
    const words = ['héllo', '日本語', '🙂👍', '', 'tab\tquote"back\\slash'];
    const result = await infer('/v2/models/simple_identity/infer', {
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, words.length], data: words }],
    });
    assert.deepEqual(result.outputs[0], { name: 'OUTPUT0', datatype: 'BYTES', shape: [1, words.length], data: words });
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

describe('JSON inference with versions and shapes', () => {
  test('runs the version named in the URL', async () => {
    for (const v of [1, 2]) {
      const result = await infer(`/v2/models/versioned/versions/${v}/infer`, {
        inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [2, 1], data: [1.5, -4] }],
      });
      assert.equal(result.model_version, String(v));
      assert.deepEqual(result.outputs[0].data, [1.5 * v, -4 * v]);
    }
  });

  test('runs the latest version when the URL names none', async () => {
    const result = await infer('/v2/models/versioned/infer', {
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [2] }],
    });
    assert.equal(result.model_version, '3');
    assert.deepEqual(result.outputs[0].data, [6]);
  });

  test('runs a model without a batch dimension on its whole shape', async () => {
    const result = await infer('/v2/models/whole_shape/infer', {
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [2, 3], data: [[1, 2, 3], [-4, 0.5, 6]] }],
    });
    assert.deepEqual(result.outputs[0], { name: 'OUTPUT0', datatype: 'FP32', shape: [2, 3], data: [2, 4, 6, -8, 1, 12] });
  });
});
