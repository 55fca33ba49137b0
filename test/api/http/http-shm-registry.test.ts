import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openSharedObjects } from '../../../src/shm/index.ts';
import { inject, jsonOf, postJson, request, type RawResponse } from '../../helpers/http.ts';
import { repositoryOf, startTestServer, type TestServer } from '../../helpers/server.ts';
import { makeShmObject, removeAll, uniqueShmName } from '../../helpers/shm.ts';

// The first test goes over a real socket; the others ask the routes through fastify's inject().
const register = (s: TestServer, name: string, body: unknown) => postJson(`${s.url}/v2/systemsharedmemory/region/${name}/register`, body);
const errorOf = (res: RawResponse) => jsonOf(res).error as string;

describe('system shared memory endpoints with --allow-client-shm=true', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('simple')}`, '--allow-client-shm=true', '--client-shm-max-bytes=8192']);
  });
  after(async () => {
    await s.close();
    removeAll();
  });

  test('register a region, list it alone and among all, and unregister it', async () => {
    const o = makeShmObject(1024);
    const reg = await register(s, 'alpha', { key: o.key, offset: 128, byte_size: 512 });
    assert.equal(reg.status, 200, reg.body.toString());
    assert.equal(reg.body.length, 0);
    assert.equal((await register(s, 'beta', { key: o.key, byte_size: 64 })).status, 200, 'offset defaults to 0');

    const one = await request(`${s.url}/v2/systemsharedmemory/region/alpha/status`);
    assert.equal(one.status, 200);
    assert.deepEqual(jsonOf(one), [{ name: 'alpha', key: o.key, offset: 128, byte_size: 512 }]);
    const all = jsonOf(await request(`${s.url}/v2/systemsharedmemory/status`));
    assert.deepEqual(all.map((r: { name: string }) => r.name).sort(), ['alpha', 'beta']);

    assert.equal((await postJson(`${s.url}/v2/systemsharedmemory/region/alpha/unregister`, '')).status, 200);
    assert.deepEqual(jsonOf(await request(`${s.url}/v2/systemsharedmemory/status`)).map((r: { name: string }) => r.name), ['beta']);
    assert.equal((await postJson(`${s.url}/v2/systemsharedmemory/unregister`, '')).status, 200);
    assert.deepEqual(jsonOf(await request(`${s.url}/v2/systemsharedmemory/status`)), []);
    assert.equal(openSharedObjects(), 0);
  });

  test('answer 404 for the status of an unknown region, and 200 for unregistering it', async () => {
    const res = await inject(s, '/v2/systemsharedmemory/region/ghost/status');
    assert.equal(res.status, 404);
    assert.equal(errorOf(res), "Unable to find system shared memory region: 'ghost'");
    assert.equal((await inject(s, '/v2/systemsharedmemory/region/ghost/unregister', '')).status, 200);
  });

  const refusals: [string, (key: string) => unknown, number, RegExp][] = [
    ['a body without a key', () => ({ byte_size: 8 }), 400, /^Shared memory register request has no 'key' field$/],
    ['a body without a byte_size', (key) => ({ key }), 400, /^Shared memory register request has no 'byte_size' field$/],
    ['a key that is not a string', () => ({ key: 5, byte_size: 8 }), 400, /'key' must be a string/],
    ['a negative offset', (key) => ({ key, offset: -8, byte_size: 8 }), 400, /'offset' must be a non-negative integer/],
    ['a byte_size given as text', (key) => ({ key, byte_size: '8' }), 400, /'byte_size' must be a non-negative integer/],
    ['a body that is not an object', () => [1], 400, /must be a JSON object/],
    ['malformed JSON', () => '{"key": ', 400, /failed to parse the request JSON/],
    ['a key with a slash inside', () => ({ key: '/a/b', byte_size: 8 }), 400, /invalid args: the key must be one plain name/],
    ['a key that climbs out of /dev/shm', () => ({ key: '/../../etc/passwd', byte_size: 8 }), 400, /invalid args: the key must be one plain name/],
    ['a key with no object behind it', () => ({ key: `/${uniqueShmName('missing')}`, byte_size: 8 }), 400, /invalid args: no shared memory object exists under the given key$/],
    ['a range past the end of the object', (key) => ({ key, offset: 1000, byte_size: 100 }), 400, /^failed to register shared memory region 'r': invalid args: offset \+ byte_size is 1100, past the end of the 1024-byte shared memory object$/],
    ['a region over the total limit', (key) => ({ key, byte_size: 8193 }), 413, /more than the limit of 8192 \(--client-shm-max-bytes\)/],
  ];
  for (const [what, body, status, message] of refusals) {
    test(`refuse ${what} with ${status}`, async () => {
      const o = makeShmObject(1024);
      const res = await inject(s, '/v2/systemsharedmemory/region/r/register', body(o.key));
      assert.equal(res.status, status, res.body.toString());
      assert.match(errorOf(res), message);
      assert.deepEqual(jsonOf(await inject(s, '/v2/systemsharedmemory/status')), []);
    });
  }

  test("refuse a name already registered, without naming either key", async () => {
    const first = makeShmObject(64);
    const second = makeShmObject(64);
    assert.equal((await inject(s, '/v2/systemsharedmemory/region/taken/register', { key: first.key, byte_size: 64 })).status, 200);
    const res = await inject(s, '/v2/systemsharedmemory/region/taken/register', { key: second.key, byte_size: 64 });
    assert.equal(res.status, 400);
    assert.equal(errorOf(res), "shared memory region 'taken' already in manager");
    assert.deepEqual(jsonOf(await inject(s, '/v2/systemsharedmemory/region/taken/status'))[0].key, first.key);
    await inject(s, '/v2/systemsharedmemory/unregister', '');
  });

  test('advertise system shared memory among the extensions, and not CUDA shared memory, whose register is refused', async () => {
    const meta = jsonOf(await inject(s, '/v2'));
    assert.ok(meta.extensions.includes('system_shared_memory'));
    assert.ok(!meta.extensions.includes('cuda_shared_memory'));
  });

  test('CUDA shared memory: the status lists nothing, unregistering succeeds, registering fails naming the missing provider', async () => {
    assert.deepEqual(jsonOf(await inject(s, '/v2/cudasharedmemory/status')), []);
    const one = await inject(s, '/v2/cudasharedmemory/region/gpu0/status');
    assert.equal(one.status, 404);
    assert.equal(errorOf(one), "Unable to find cuda shared memory region: 'gpu0'");
    assert.equal((await inject(s, '/v2/cudasharedmemory/unregister', '')).status, 200);
    assert.equal((await inject(s, '/v2/cudasharedmemory/region/gpu0/unregister', '')).status, 200);
    const reg = await inject(s, '/v2/cudasharedmemory/region/gpu0/register', { raw_handle: { b64: Buffer.alloc(64).toString('base64') }, device_id: 0, byte_size: 64 });
    assert.equal(reg.status, 501);
    assert.equal(errorOf(reg), "failed to register CUDA shared memory region: 'gpu0', CUDA shared memory needs onnxruntime's CUDA execution provider, which this server does not have");
    assert.deepEqual(jsonOf(await inject(s, '/v2/cudasharedmemory/status')), []);
  });
});

describe('shared memory endpoints without --allow-client-shm', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('simple')}`]);
  });
  after(async () => {
    await s.close();
    removeAll();
  });

  const flag = "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.";

  test('refuse to register or unregister with 501 naming the flag, and list nothing', async () => {
    const o = makeShmObject(64);
    for (const [path, body] of [
      ['/v2/systemsharedmemory/region/r/register', { key: o.key, byte_size: 64 }],
      ['/v2/systemsharedmemory/region/r/register', '{not json'],
      ['/v2/systemsharedmemory/region/r/unregister', ''],
      ['/v2/systemsharedmemory/unregister', ''],
      ['/v2/cudasharedmemory/region/g/register', { raw_handle: { b64: '' }, device_id: 0, byte_size: 64 }],
      ['/v2/cudasharedmemory/region/g/unregister', ''],
      ['/v2/cudasharedmemory/unregister', ''],
    ] as const) {
      const res = await inject(s, path, body);
      assert.equal(res.status, 501, path);
      assert.equal(errorOf(res), flag, path);
    }
    assert.deepEqual(jsonOf(await inject(s, '/v2/systemsharedmemory/status')), []);
    assert.deepEqual(jsonOf(await inject(s, '/v2/cudasharedmemory/status')), []);
    assert.equal(openSharedObjects(), 0);
  });

  test('refuse inference through a region with 501 naming the flag, and keep serving', async () => {
    const res = await inject(s, '/v2/models/simple/infer', {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 64 } },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
      ],
    });
    assert.equal(res.status, 501);
    assert.equal(errorOf(res), flag);
    const ok = await s.client.infer('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
    ]);
    assert.deepEqual(ok.outputs[0].data, new Array(16).fill(2));
  });
});
