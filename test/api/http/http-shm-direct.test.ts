/**
 * Tensors in client regions are read and written by the worker itself (pread/pwrite on the
 * region's descriptor), next to requests whose tensors travel in the slot: the same batch must
 * put every request's rows at their place, a region the client shrinks under a queued request
 * must fail that request alone, and a worker that dies must leave no lease behind.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { HttpError, SharedMemoryRegion, type ClientShmTensor, type ClientTensor, type InferResult, type RequestedClientOutput } from '../../../src/client/index.ts';
import { openSharedObjects } from '../../../src/shm/index.ts';
import { batchSizes, startRepoServer, until, type RepoServer } from '../../helpers/batching.ts';
import { sequence } from '../../helpers/server.ts';
import { uniqueShmName } from '../../helpers/shm.ts';
import { CRASH_MARKER, onCrashBackend, registerCrashBackend } from '../../helpers/crash-backend.ts';

// `busy` runs on the test_crash backend, whose worker dies on a marked request; register before
// any server starts.
registerCrashBackend();

const guard = { timeout: 60_000 };
const simpleIo = `platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
`;
/** Bytes per request slice of a region: INPUT0, INPUT1, OUTPUT0, OUTPUT1 of up to 4 rows each. */
const SLICE = 4 * 4 * 64;

/** Request k's inputs: rows of 100k + i, and k everywhere; `simple` answers their sum and difference. */
const inputsOf = (k: number, rows: number) => ({ a: sequence(rows, 100 * k), b: new Array(rows * 16).fill(k) });

type Way = 'regions' | 'inputs in regions' | 'outputs in regions' | 'body';
const ways: Way[] = ['regions', 'inputs in regions', 'outputs in regions', 'body'];

describe('tensors read and written by the worker next to tensors in the slot', () => {
  let s: RepoServer;
  const made: SharedMemoryRegion[] = [];
  const region = async (name: string, size: number): Promise<SharedMemoryRegion> => {
    const r = SharedMemoryRegion.create(`/${uniqueShmName(name)}`, size);
    made.push(r);
    await s.client.registerSystemSharedMemory(name, r.key, size);
    return r;
  };

  before(async () => {
    s = await startRepoServer({
      // Sends a batch only once 8 rows wait: the batch's make-up does not depend on timing.
      eight: { from: 'simple', config: `${simpleIo}dynamic_batching { preferred_batch_size: [ 8 ] max_queue_delay_microseconds: 30000000 }` },
      four: { from: 'simple', config: `${simpleIo}dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 30000000 }` },
      busy: { from: 'simple', config: onCrashBackend(`${simpleIo}dynamic_batching { max_queue_delay_microseconds: 2000 }`) },
      whole: { from: 'whole_shape', config: 'platform: "onnxruntime_onnx"\nmax_batch_size: 0\ninput [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 2, 3 ] } ]\noutput [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 2, 3 ] } ]\n' },
    }, ['--allow-client-shm=true']);
  });
  after(async () => {
    await s.close();
    for (const r of made) r.destroy();
  });

  /**
   * Infers request k (`rows` rows) on `model` the given way, with its tensors at slice k of `io`
   * (region `name`), and checks every value of the answer, wherever it was written.
   */
  const inferChecked = async (model: string, io: SharedMemoryRegion, name: string, k: number, rows: number, way: Way): Promise<void> => {
    const at = k * SLICE;
    const { a, b } = inputsOf(k, rows);
    const size = rows * 64;
    const inRegions = way === 'regions' || way === 'inputs in regions';
    const outRegions = way === 'regions' || way === 'outputs in regions';
    const inputs: (ClientTensor | ClientShmTensor)[] = inRegions
      ? [
        { name: 'INPUT0', datatype: 'INT32', shape: [rows, 16], sharedMemory: io.writeTensor({ datatype: 'INT32', data: a }, name, at) },
        { name: 'INPUT1', datatype: 'INT32', shape: [rows, 16], sharedMemory: io.writeTensor({ datatype: 'INT32', data: b }, name, at + SLICE / 4) },
      ]
      : [{ name: 'INPUT0', datatype: 'INT32', shape: [rows, 16], data: a }, { name: 'INPUT1', datatype: 'INT32', shape: [rows, 16], data: b }];
    const outputs: RequestedClientOutput[] = outRegions
      ? [
        { name: 'OUTPUT0', sharedMemory: { region: name, offset: at + SLICE / 2, byteSize: SLICE / 4 } },
        { name: 'OUTPUT1', sharedMemory: { region: name, offset: at + (3 * SLICE) / 4, byteSize: SLICE / 4 } },
      ]
      : [{ name: 'OUTPUT0' }, { name: 'OUTPUT1' }];
    const res: InferResult = await s.client.infer(model, inputs, { outputs, binaryInputs: k % 2 === 0 });
    const sum = a.map((v, i) => v + b[i]);
    const difference = a.map((v, i) => v - b[i]);
    if (outRegions) {
      assert.deepEqual(res.outputs.map((o) => o.parameters?.shared_memory_byte_size), [size, size], `request ${k}`);
      assert.deepEqual([...(io.readTensor('INT32', [rows, 16], at + SLICE / 2) as Int32Array)], sum, `request ${k} OUTPUT0`);
      assert.deepEqual([...(io.readTensor('INT32', [rows, 16], at + (3 * SLICE) / 4) as Int32Array)], difference, `request ${k} OUTPUT1`);
    } else {
      assert.deepEqual(res.outputs.map((o) => o.shape), [[rows, 16], [rows, 16]], `request ${k}`);
      assert.deepEqual([...res.outputs[0].data as number[]], sum, `request ${k} OUTPUT0`);
      assert.deepEqual([...res.outputs[1].data as number[]], difference, `request ${k} OUTPUT1`);
    }
  };

  test('puts each request at its batch offset when region and non-region requests share one batch', guard, async () => {
    const io = await region('mix8', 8 * SLICE);
    await Promise.all(Array.from({ length: 8 }, (_, k) => inferChecked('eight', io, 'mix8', k, 1, ways[k % 4])));
    assert.deepEqual(batchSizes(s.stats('eight')), { 8: 1 }, 'the eight requests ran as one batch');
  });

  test('keeps every value right under concurrency, with batches of mixed rows and kinds', guard, async () => {
    const clients = 6;
    const perClient = 10;
    const io = await region('mixload', clients * perClient * SLICE);
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        const k = c * perClient + i;
        await inferChecked('busy', io, 'mixload', k, 1 + (k % 3), ways[(c + i) % 4]);
      }
    }));
    assert.equal(s.stats('busy').success.count, clients * perClient);
  });

  test('fails only the request whose object the client shrank while it was queued; its batch runs on', guard, async () => {
    const shrunk = await region('shrunk', 128);
    const shrunkOut = await region('shrunk-out', 128);
    const io = await region('mix4', 4 * SLICE);
    const { a, b } = inputsOf(9, 1);
    const doomed = s.client.infer('four', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], sharedMemory: shrunk.writeTensor({ datatype: 'INT32', data: a }, 'shrunk', 0) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], sharedMemory: shrunk.writeTensor({ datatype: 'INT32', data: b }, 'shrunk', 64) },
    ], { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'shrunk-out', byteSize: 64 } }, { name: 'OUTPUT1', sharedMemory: { region: 'shrunk-out', offset: 64, byteSize: 64 } }] });
    const refused = doomed.then(() => null, (err: unknown) => err);
    // It passed its checks and holds its leases; now it waits for three more rows.
    await until(() => s.scheduler('four').pendingCount() > 0);
    fs.truncateSync(shrunk.path, 0);
    await Promise.all([1, 2, 3].map((k) => inferChecked('four', io, 'mix4', k, 1, ways[k])));

    const err = await refused;
    assert.ok(err instanceof HttpError, 'the shrunk request failed');
    assert.equal(err.status, 400);
    assert.match(err.message, /shared memory region 'shrunk' could not be read: the shared memory object is now smaller than the registered region/);
    assert.deepEqual(batchSizes(s.stats('four')), { 4: 1 }, 'it failed inside a batch of four');
    assert.ok(shrunkOut.read(0, 128).every((byte) => byte === 0), 'nothing was written for it');
    // The server carries on, with the same regions.
    await inferChecked('four', io, 'mix4', 0, 4, 'regions');
  });

  test('reads and writes the whole tensor of a model without batching', guard, async () => {
    const io = await region('whole', 64);
    const values = [1.5, -2, 3.25, 4, 5, 6.5];
    const res = await s.client.infer('whole', [
      { name: 'INPUT0', datatype: 'FP32', shape: [2, 3], sharedMemory: io.writeTensor({ datatype: 'FP32', data: values }, 'whole', 0) },
    ], { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'whole', offset: 32, byteSize: 32 } }] });
    assert.deepEqual(res.outputs[0].parameters, { shared_memory_region: 'whole', shared_memory_offset: 32, shared_memory_byte_size: 24 });
    assert.deepEqual(res.outputs[0].shape, [2, 3]);
    assert.deepEqual([...(io.readTensor('FP32', [2, 3], 32) as Float32Array)], values.map((v) => 2 * v), 'whole_shape doubles its input');
  });

  test('releases the leases of a batch whose worker dies, and serves the regions again after', guard, async () => {
    const io = await region('crash', 2 * SLICE);
    const registered = openSharedObjects();
    const { a, b } = inputsOf(5, 1);
    a[0] = CRASH_MARKER;
    const crashed = await s.client.infer('busy', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], sharedMemory: io.writeTensor({ datatype: 'INT32', data: a }, 'crash', 0) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], sharedMemory: io.writeTensor({ datatype: 'INT32', data: b }, 'crash', 64) },
    ], { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'crash', offset: 128, byteSize: 64 } }] })
      .then(() => null, (err: unknown) => err);
    assert.ok(crashed instanceof HttpError);
    assert.equal(crashed.status, 500);
    assert.match(crashed.message, /^model 'busy': /);
    assert.equal(openSharedObjects(), registered, 'the failed request holds no lease');
    assert.ok(io.read(128, 64).every((byte) => byte === 0), 'the dead worker wrote nothing');
    await inferChecked('busy', io, 'crash', 1, 2, 'regions');
  });
});
