import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { jsonOf, request, simpleRequest } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';

const LIMIT = 65536;
let s: TestServer;

before(async () => {
  s = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_identity')}`, `--http-max-input-size=${LIMIT}`]);
});

after(async () => {
  await s?.close();
});

const inferUrl = () => `${s.url}/v2/models/simple/infer`;
const json = (rows = 1) => Buffer.from(JSON.stringify(simpleRequest(rows)), 'utf8');

/** A simple request padded with trailing spaces (valid JSON) to exactly `size` bytes. */
const padded = (size: number) => {
  const body = json();
  return Buffer.concat([body, Buffer.alloc(size - body.length, 0x20)]);
};

describe('compressed request bodies', () => {
  for (const [encoding, compress] of [['gzip', zlib.gzipSync], ['deflate', zlib.deflateSync]] as const) {
    test(`inflates a ${encoding} request body before decoding it`, async () => {
      const res = await request(inferUrl(), {
        body: compress(json(2)),
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(jsonOf(res).outputs[0].data, sequence(2).map((v) => v + 1));
    });
  }

  test('answers 400 for a body that is not valid gzip', async () => {
    const res = await request(inferUrl(), { body: json(), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(res.status, 400);
    assert.match(jsonOf(res).error, /decompress/);
  });
});

describe('compressed responses', () => {
  // simple_identity echoes its input: a response well over the 1 KiB compression threshold.
  const words = Array.from({ length: 8 }, (_, i) => `word ${i} `.repeat(40));
  const identity = () => Buffer.from(JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 8], data: words }] }));
  const identityUrl = () => `${s.url}/v2/models/simple_identity/infer`;

  test('gzips a large response when the client accepts gzip', async () => {
    const res = await request(identityUrl(), { body: identity(), headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    const result = JSON.parse(zlib.gunzipSync(res.body).toString('utf8'));
    assert.deepEqual(result.outputs[0].data, words);
  });

  test('answers uncompressed when the client does not ask for compression', async () => {
    const res = await request(identityUrl(), { body: identity(), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.deepEqual(jsonOf(res).outputs[0].data, words);
  });
});

describe('the request size limit', () => {
  test('accepts a body of exactly --http-max-input-size bytes', async () => {
    const res = await request(inferUrl(), { body: padded(LIMIT), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, res.body.toString());
  });

  test('answers 413 for a plain body one byte over the limit', async () => {
    const res = await request(inferUrl(), { body: padded(LIMIT + 1), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 413);
    assert.deepEqual(jsonOf(res), { error: `request body is larger than the limit of ${LIMIT} bytes (--http-max-input-size)` });
  });

  test('answers 413 for a small gzip body that inflates past the limit', async () => {
    const bomb = zlib.gzipSync(padded(LIMIT * 16));
    assert.ok(bomb.length < LIMIT / 8, `the compressed body (${bomb.length} bytes) must itself be under the limit`);
    const res = await request(inferUrl(), { body: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(res.status, 413);
    assert.match(jsonOf(res).error, /--http-max-input-size/);
  });

  test('still serves after refusing oversized bodies', async () => {
    const res = await request(inferUrl(), { body: zlib.gzipSync(padded(LIMIT)), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(jsonOf(res).outputs[0].data, sequence(1).map((v) => v + 1));
  });
});
