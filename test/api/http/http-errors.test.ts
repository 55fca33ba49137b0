import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClientTensor } from '../../../src/client/http-client.ts';
import { binaryBody, int32Bytes, jsonOf, postJson, request, simpleRequest } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity', 'all_types')}`]);
});

after(async () => {
  await s?.close();
});

interface Case {
  readonly title: string;
  /** Defaults to simple's infer URL. */
  readonly path?: string;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly error: RegExp;
  /** Request data that must not come back in the message. */
  readonly secret?: string;
}

const SECRET = 'Zq8-secret-payload';
const SIMPLE = '/v2/models/simple/infer';
const ones = new Array(16).fill(1);
const simpleInputs = (rows = 1) => simpleRequest(rows).inputs as Record<string, unknown>[];

/** simple's request with INPUT0 replaced by `input0` fields. */
const simpleWith = (input0: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1), ...input0 },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ones },
  ],
  ...extra,
});

/** A full all_types request, one element of each, with some inputs' data replaced. */
const allTypesWith = (data: Record<string, unknown[]>) => {
  const base: Record<string, unknown[]> = {
    BOOL: [true], UINT8: [1], UINT16: [1], UINT32: [1], UINT64: [1], INT8: [1], INT16: [1], INT32: [1], INT64: [1],
    FP16: [1], FP32: [1], FP64: [1], BYTES: ['a'],
  };
  return { inputs: Object.entries({ ...base, ...data }).map(([t, d]) => ({ name: `IN_${t}`, datatype: t, shape: [1, 1], data: d })) };
};

/** simple's request with both inputs in the binary part, their sizes as given. */
const simpleBinary = (sizes: [number, number], parts: Buffer[]) => binaryBody({
  inputs: ['INPUT0', 'INPUT1'].map((name, i) => ({ name, datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: sizes[i] } })),
}, parts);

const deep = `{"inputs": ${'['.repeat(101)}${']'.repeat(101)}}`;
const shortBinary = simpleBinary([64, 64], [int32Bytes(sequence(1)), int32Bytes(new Array(8).fill(1))]);
const longBinary = simpleBinary([64, 64], [int32Bytes(sequence(1)), int32Bytes(ones), Buffer.alloc(8)]);
const bytesPastEnd = (() => {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(1000);
  return binaryBody({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 1], parameters: { binary_data_size: 4 + SECRET.length } }] },
    [prefix, Buffer.from(SECRET)]);
})();

/** What JSON or the binary extension can get wrong; the refusals every transport shares are in test/api/conformance/. */
const cases: Case[] = [
  { title: 'malformed JSON', body: `{"inputs": [{"name": "${SECRET}", `, status: 400, error: /^failed to parse the request JSON buffer/, secret: SECRET },
  { title: 'JSON that is not an object', body: '[1, 2]', status: 400, error: /must be a JSON object/ },
  { title: 'JSON nested deeper than 100 levels', body: deep, status: 400, error: /nested deeper than 100 levels/ },
  { title: 'a header length past the end of the body', body: Buffer.from(JSON.stringify(simpleRequest())), headers: { 'inference-header-content-length': '99999' }, status: 400, error: /Inference-Header-Content-Length is 99999, past the end of the \d+-byte body/ },
  { title: 'a header length that is not a number', body: Buffer.from(JSON.stringify(simpleRequest())), headers: { 'inference-header-content-length': 'twelve' }, status: 400, error: /Inference-Header-Content-Length must be a non-negative integer/ },
  { title: 'binary_data_size summing past the binary part', body: shortBinary.body, headers: shortBinary.headers, status: 400, error: /input 'INPUT1': binary_data_size 64 goes past the end of the body's 96 binary bytes/ },
  { title: 'binary bytes beyond the binary_data_size total', body: longBinary.body, headers: longBinary.headers, status: 400, error: /8 binary bytes beyond the inputs' binary_data_size total of 128/ },
  { title: 'a dim that is not a number', body: simpleWith({ shape: [1, '16'] }), status: 400, error: /unexpected shape for input 'INPUT0' for model 'simple'\. Expected non-negative integer dims, got \[1,string\]/ },
  { title: '300 for UINT8', path: '/v2/models/all_types/infer', body: allTypesWith({ UINT8: [300] }), status: 400, error: /input 'IN_UINT8': data element 0 is not a valid UINT8 value/, secret: '300' },
  { title: '1.5 for INT32', body: simpleWith({ data: [0, 1, 2, 1.5, ...sequence(1).slice(4)] }), status: 400, error: /input 'INPUT0': data element 3 is not a valid INT32 value/, secret: '1.5' },
  { title: 'a string for FP32', path: '/v2/models/all_types/infer', body: allTypesWith({ FP32: [SECRET] }), status: 400, error: /input 'IN_FP32': data element 0 is not a valid FP32 value/, secret: SECRET },
  { title: "'inputs' that is not an array", body: { inputs: { name: 'INPUT0' } }, status: 400, error: /request must have an 'inputs' array/ },
  { title: "an 'id' that is not a string", body: simpleRequest(1, { id: 42 }), status: 400, error: /request 'id' must be a string/ },
  { title: 'a BYTES length prefix past the end of its data', path: '/v2/models/simple_identity/infer', body: bytesPastEnd.body, headers: bytesPastEnd.headers, status: 400, error: /input 'INPUT0': BYTES element 0 has length 1000, past the end of the data/, secret: SECRET },
  { title: 'an unknown URL', path: '/v2/no/such/thing', body: simpleRequest(), status: 404, error: /^Not Found$/ },
];

describe('requests the server refuses', () => {
  for (const c of cases) {
    test(`answers ${c.status} with a message for ${c.title}`, async () => {
      const body = Buffer.isBuffer(c.body) || typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      const res = c.headers
        ? await request(`${s.url}${c.path ?? SIMPLE}`, { method: 'POST', body, headers: c.headers })
        : await postJson(`${s.url}${c.path ?? SIMPLE}`, body);
      assert.equal(res.status, c.status, res.body.toString());
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const reply = jsonOf(res);
      assert.deepEqual(Object.keys(reply), ['error']);
      assert.equal(typeof reply.error, 'string');
      assert.match(reply.error, c.error);
      // Never the request's data back: neither the tensor values nor a marked secret.
      if (String(body).includes('0,1,2,3,4,5')) assert.ok(!reply.error.includes('0,1,2,3,4,5'), reply.error);
      if (c.secret) assert.ok(!reply.error.includes(c.secret), reply.error);
    });
  }

  test('still serves a good request after refusing all of them', async () => {
    const result = await s.client.infer('simple', simpleInputs(2) as unknown as ClientTensor[]);
    assert.deepEqual(result.outputs[0].data, sequence(2).map((v) => v + 1));
    assert.equal((await request(`${s.url}/v2/health/live`)).status, 200);
  });
});

describe('a request for a model the server does not have', () => {
  test('is told so, as Triton tells it, whatever its body', async () => {
    for (const body of ['{}', '{"inputs":[{"name":"INPUT0"', JSON.stringify(simpleRequest())]) {
      const res = await request(`${s.url}/v2/models/nope/infer`, { body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 404, body);
      assert.deepEqual(jsonOf(res), { error: "Request for unknown model: 'nope' is not found" });
    }
  });
});
