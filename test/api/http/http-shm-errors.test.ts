import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SharedMemoryRegion } from '../../../src/client/index.ts';
import { openSharedObjects } from '../../../src/shm/index.ts';
import { jsonOf, postJson } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';
import { uniqueShmName } from '../../helpers/shm.ts';

type Params = Record<string, unknown>;
const shm = (region: string, byteSize: number, offset?: number): Params => ({
  shared_memory_region: region,
  shared_memory_byte_size: byteSize,
  ...(offset === undefined ? {} : { shared_memory_offset: offset }),
});

/** A `simple` request: INPUT0 from `in0` parameters (or JSON), INPUT1 JSON ones, `outputs` as given. */
function body(in0: Params | null, outputs?: { name: string; parameters?: Params }[]): Record<string, unknown> {
  return {
    inputs: [
      in0 ? { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: in0 } : { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
    ],
    ...(outputs ? { outputs } : {}),
  };
}

describe('inference through shared memory that cannot be done', () => {
  let s: TestServer;
  let io: SharedMemoryRegion;
  let spare: SharedMemoryRegion;
  const infer = (b: unknown) => postJson(`${s.url}/v2/models/simple/infer`, b);

  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('simple')}`, '--allow-client-shm=true']);
    io = SharedMemoryRegion.create(`/${uniqueShmName('errors')}`, 256);
    io.writeTensor({ datatype: 'INT32', data: sequence(1) }, 'io', 0);
    // The region is the object's bytes 0..191: the last 64 bytes of the object are outside it.
    await s.client.registerSystemSharedMemory('io', io.key, 192);
    spare = SharedMemoryRegion.create(`/${uniqueShmName('spare')}`, 64);
  });
  after(async () => {
    await s.close();
    io.destroy();
    spare.destroy();
  });

  const refusals: [string, () => Record<string, unknown>, number, RegExp][] = [
    ['an unknown input region', () => body(shm('nope', 64)), 404, /^Unable to find shared memory region: 'nope'$/],
    ['an unknown output region', () => body(null, [{ name: 'OUTPUT0', parameters: shm('nope', 64) }]), 404, /^Unable to find shared memory region: 'nope'$/],
    ['an input byte size larger than the tensor', () => body(shm('io', 128)), 400, /input byte size mismatch for input 'INPUT0' for model 'simple'\. Expected 64, got 128/],
    ['an input byte size smaller than the tensor', () => body(shm('io', 60)), 400, /input byte size mismatch for input 'INPUT0' for model 'simple'\. Expected 64, got 60/],
    ['an input read past the region\'s end', () => body(shm('io', 64, 160)), 400, /^Invalid offset \+ byte size for shared memory region: 'io'$/],
    ['an input offset past the region', () => body(shm('io', 64, 200)), 400, /^Invalid offset for shared memory region: 'io'$/],
    ['an output written past the region\'s end', () => body(null, [{ name: 'OUTPUT0', parameters: shm('io', 64, 150) }]), 400, /^Invalid offset \+ byte size for shared memory region: 'io'$/],
    ['an output region too small for the output', () => body(null, [{ name: 'OUTPUT0', parameters: shm('io', 32, 64) }]), 400, /^shared memory size specified with the request for output 'OUTPUT0' \(32 bytes\) should be at least 64 bytes to hold the results$/],
    ['a region without its byte size', () => body({ shared_memory_region: 'io' }), 400, /shared_memory_byte_size must be given/],
    ['a region and data together', () => ({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1), parameters: shm('io', 64) }] }), 400, /must set only one of/],
  ];
  for (const [what, make, status, message] of refusals) {
    test(`refuses ${what} with ${status}, leaving no lease behind`, async () => {
      const before = Buffer.from(io.read(0, 256));
      const res = await infer(make());
      assert.equal(res.status, status, res.body.toString());
      assert.match(jsonOf(res).error, message);
      assert.deepEqual(io.read(0, 256), before, 'the region is untouched');
      assert.equal(openSharedObjects(), 1, 'only the registration holds the object');
    });
  }

  test('writes an output smaller than its range and reports the bytes written', async () => {
    const res = await infer(body(shm('io', 64), [{ name: 'OUTPUT0', parameters: shm('io', 128, 64) }]));
    assert.equal(res.status, 200, res.body.toString());
    assert.deepEqual(jsonOf(res).outputs[0].parameters, { shared_memory_region: 'io', shared_memory_offset: 64, shared_memory_byte_size: 64 });
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 64) as Int32Array)], sequence(1).map((v) => v + 1));
  });

  test('refuses an object that its client shrank below the registered region, and serves once it is whole again', async () => {
    await s.client.registerSystemSharedMemory('spare', spare.key, 64);
    fs.truncateSync(spare.path, 32);
    const res = await infer(body(shm('spare', 64)));
    assert.equal(res.status, 400);
    assert.equal(jsonOf(res).error, "shared memory region 'spare' could not be used: the shared memory object is now smaller than the registered region");
    fs.truncateSync(spare.path, 64);
    spare.writeTensor({ datatype: 'INT32', data: sequence(1, 5) }, 'spare');
    const ok = await infer(body(shm('spare', 64)));
    assert.equal(ok.status, 200);
    assert.deepEqual(jsonOf(ok).outputs[0].data, sequence(1, 6));
    await s.client.unregisterSystemSharedMemory('spare');
  });

  test('keeps serving plain requests after every refusal', async () => {
    const res = await infer(body(null));
    assert.equal(res.status, 200);
    assert.deepEqual(jsonOf(res).outputs[0].data, sequence(1, 1));
  });
});
