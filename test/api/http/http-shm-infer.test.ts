import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SharedMemoryRegion, type ClientShmTensor } from '../../../src/client/index.ts';
import { openSharedObjects } from '../../../src/shm/index.ts';
import { binaryBody, int32Bytes, request, splitResponse } from '../../helpers/http.ts';
import { repositoryOf, sequence, startTestServer, type TestServer } from '../../helpers/server.ts';
import { removeAll, uniqueShmName } from '../../helpers/shm.ts';

const ones = (rows: number) => new Array(rows * 16).fill(1);
const plus = (values: number[], k: number) => values.map((v) => v + k);

describe('inference through system shared memory on simple', () => {
  let s: TestServer;
  const regions: SharedMemoryRegion[] = [];
  /** A client region of `size` bytes registered as `name`. */
  const region = async (name: string, size: number): Promise<SharedMemoryRegion> => {
    const r = SharedMemoryRegion.create(`/${uniqueShmName(name)}`, size);
    regions.push(r);
    await s.client.registerSystemSharedMemory(name, r.key, size);
    return r;
  };
  const shmInput = (name: string, rows: number, ref: ClientShmTensor['sharedMemory']): ClientShmTensor => ({ name, datatype: 'INT32', shape: [rows, 16], sharedMemory: ref });

  before(async () => {
    s = await startTestServer([`--model-repository=${repositoryOf('simple', 'simple_string')}`, '--allow-client-shm=true']);
  });
  after(async () => {
    await s.close();
    for (const r of regions) r.destroy();
    removeAll();
  });

  test('reads inputs from and writes outputs into one region per tensor, batch 1', async () => {
    const in0 = await region('b1-in0', 64);
    const in1 = await region('b1-in1', 64);
    const out0 = await region('b1-out0', 64);
    const out1 = await region('b1-out1', 64);
    const refIn0 = in0.writeTensor({ datatype: 'INT32', data: sequence(1) }, 'b1-in0');
    const refIn1 = in1.writeTensor({ datatype: 'INT32', data: ones(1) }, 'b1-in1');
    const res = await s.client.infer('simple', [shmInput('INPUT0', 1, refIn0), shmInput('INPUT1', 1, refIn1)], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'b1-out0', byteSize: 64 } }, { name: 'OUTPUT1', sharedMemory: { region: 'b1-out1', byteSize: 64 } }],
    });
    assert.deepEqual(res.outputs.map((o) => [o.name, o.datatype, o.shape, o.parameters, o.data]), [
      ['OUTPUT0', 'INT32', [1, 16], { shared_memory_region: 'b1-out0', shared_memory_byte_size: 64 }, []],
      ['OUTPUT1', 'INT32', [1, 16], { shared_memory_region: 'b1-out1', shared_memory_byte_size: 64 }, []],
    ]);
    assert.deepEqual([...(out0.readTensor('INT32', [1, 16]) as Int32Array)], plus(sequence(1), 1));
    assert.deepEqual([...(out1.readTensor('INT32', [1, 16]) as Int32Array)], plus(sequence(1), -1));
    assert.equal(openSharedObjects(), 4, 'the request released its leases; the four registrations remain');
  });

  test('reads and writes a batch of 3 at offsets within one region', async () => {
    const io = await region('b3', 4 * 192 + 64);
    const a = io.writeTensor({ datatype: 'INT32', data: sequence(3) }, 'b3', 0);
    const b = io.writeTensor({ datatype: 'INT32', data: sequence(3, 100) }, 'b3', 192);
    const res = await s.client.infer('simple', [shmInput('INPUT0', 3, a), shmInput('INPUT1', 3, b)], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'b3', offset: 384, byteSize: 192 } }, { name: 'OUTPUT1', sharedMemory: { region: 'b3', offset: 576, byteSize: 256 } }],
    });
    assert.deepEqual(res.outputs.map((o) => [o.shape, o.parameters]), [
      [[3, 16], { shared_memory_region: 'b3', shared_memory_offset: 384, shared_memory_byte_size: 192 }],
      [[3, 16], { shared_memory_region: 'b3', shared_memory_offset: 576, shared_memory_byte_size: 192 }],
    ]);
    assert.deepEqual([...(io.readTensor('INT32', [3, 16], 384) as Int32Array)], sequence(3).map((v, i) => v + sequence(3, 100)[i]));
    assert.deepEqual([...(io.readTensor('INT32', [3, 16], 576) as Int32Array)], new Array(48).fill(-100));
    assert.deepEqual([...io.read(768, 64)], new Array(64).fill(0), 'the bytes after the output are untouched');
  });

  test('mixes inputs from a region with JSON and binary inputs, and region outputs with JSON and binary ones', async () => {
    const io = await region('mix', 256);
    const ref = io.writeTensor({ datatype: 'INT32', data: sequence(1, 10) }, 'mix');
    const json = await s.client.infer('simple', [shmInput('INPUT0', 1, ref), { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ones(1) }], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'mix', offset: 64, byteSize: 64 } }, 'OUTPUT1'],
    });
    assert.deepEqual(json.outputs[1].data, plus(sequence(1, 10), -1));
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 64) as Int32Array)], plus(sequence(1, 10), 1));

    // Binary body inputs keep their own offsets in the body when a region input comes first.
    const { body, headers } = binaryBody({
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'mix', shared_memory_byte_size: 64 } },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
      ],
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }, { name: 'OUTPUT1', parameters: { shared_memory_region: 'mix', shared_memory_offset: 128, shared_memory_byte_size: 64 } }],
    }, [int32Bytes(new Array(16).fill(2))]);
    const res = await request(`${s.url}/v2/models/simple/infer`, { method: 'POST', body, headers });
    assert.equal(res.status, 200, res.body.toString());
    const { header, binary } = splitResponse(res);
    assert.deepEqual(header.outputs[1], { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'mix', shared_memory_offset: 128, shared_memory_byte_size: 64 } });
    assert.deepEqual([...new Int32Array(binary.buffer.slice(binary.byteOffset, binary.byteOffset + 64))], plus(sequence(1, 10), 2));
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 128) as Int32Array)], plus(sequence(1, 10), -2));
  });

  test('gives each request of a dynamic batch its own rows in its own region', async () => {
    const n = 6;
    const ios = await Promise.all(Array.from({ length: n }, (_, i) => region(`batch-${i}`, 256)));
    const results = await Promise.all(ios.map((io, i) => s.client.infer('simple', [
      shmInput('INPUT0', 1, io.writeTensor({ datatype: 'INT32', data: sequence(1, 1000 * i) }, `batch-${i}`, 0)),
      shmInput('INPUT1', 1, io.writeTensor({ datatype: 'INT32', data: new Array(16).fill(i) }, `batch-${i}`, 64)),
    ], { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: `batch-${i}`, offset: 128, byteSize: 64 } }, { name: 'OUTPUT1', sharedMemory: { region: `batch-${i}`, offset: 192, byteSize: 64 } }] })));
    assert.equal(results.length, n);
    ios.forEach((io, i) => {
      assert.deepEqual([...(io.readTensor('INT32', [1, 16], 128) as Int32Array)], plus(sequence(1, 1000 * i), i), `request ${i}`);
      assert.deepEqual([...(io.readTensor('INT32', [1, 16], 192) as Int32Array)], plus(sequence(1, 1000 * i), -i), `request ${i}`);
    });
  });

  test('reads BYTES inputs from a region and writes BYTES outputs into one, reporting the bytes written', async () => {
    const io = await region('strings', 2048);
    const a = io.writeTensor({ datatype: 'BYTES', data: sequence(1).map(String) }, 'strings', 0);
    const b = io.writeTensor({ datatype: 'BYTES', data: new Array(16).fill('7') }, 'strings', 512);
    const res = await s.client.infer('simple_string', [
      { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], sharedMemory: a },
      { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], sharedMemory: b },
    ], { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'strings', offset: 1024, byteSize: 512 } }, 'OUTPUT1'] });
    const written = res.outputs[0].parameters!.shared_memory_byte_size as number;
    const expected = plus(sequence(1), 7).map(String);
    assert.equal(written, expected.reduce((n, v) => n + 4 + v.length, 0));
    assert.deepEqual(io.readTensor('BYTES', [1, 16], 1024, written), expected);
    assert.deepEqual(res.outputs[1].data, plus(sequence(1), -7).map(String));
  });
});
