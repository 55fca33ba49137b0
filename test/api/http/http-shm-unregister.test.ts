import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpError, SharedMemoryRegion } from '../../../src/client/index.ts';
import { openSharedObjects } from '../../../src/shm/index.ts';
import { startRepoServer, until, type RepoServer } from '../../helpers/batching.ts';
import { slowConfig } from '../../helpers/repo.ts';
import { sequence } from '../../helpers/server.ts';
import { uniqueShmName } from '../../helpers/shm.ts';

describe('unregistering a region while requests use it', () => {
  let s: RepoServer;
  const made: SharedMemoryRegion[] = [];
  const create = (tag: string, size: number) => {
    const r = SharedMemoryRegion.create(`/${uniqueShmName(tag)}`, size);
    made.push(r);
    return r;
  };

  before(async () => {
    s = await startRepoServer({
      simple: { from: 'simple', config: 'platform: "onnxruntime_onnx"\nmax_batch_size: 8\ninput [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]\noutput [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]\ndynamic_batching { }' },
      slow: { from: 'slow', config: slowConfig('dynamic_batching { }') },
    }, ['--allow-client-shm=true']);
  });
  after(async () => {
    await s.close();
    for (const r of made) r.destroy();
  });

  test('lets a request in flight finish with its data, then closes the object', async () => {
    const io = create('inflight', 8);
    io.write(new Uint8Array(new Float32Array([4.5]).buffer), 0);
    await s.client.registerSystemSharedMemory('inflight', io.key, 8);
    const pending = s.client.infer('slow', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], sharedMemory: { region: 'inflight', byteSize: 4 } }], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'inflight', offset: 4, byteSize: 4 } }],
    });
    // The request holds its leases from before it is queued, so once it is in flight they are taken.
    await until(() => s.scheduler('slow').inflightCount() > 0);
    await s.client.unregisterSystemSharedMemory('inflight');
    assert.deepEqual(await s.client.systemSharedMemoryStatus(), []);
    assert.equal(openSharedObjects(), 1, 'held open by the request');

    const res = await pending;
    assert.deepEqual(res.outputs[0].parameters, { shared_memory_region: 'inflight', shared_memory_offset: 4, shared_memory_byte_size: 4 });
    assert.deepEqual([...new Float32Array(io.read(4, 4).buffer.slice(0))], [4.5]);
    assert.equal(openSharedObjects(), 0, 'closed with the last lease');
  });

  test('under load, each request succeeds with correct values or fails with 404, and the server keeps serving', async (t) => {
    const clients = 24;
    const perClient = 8;
    const slice = 256; // per request: INPUT0, INPUT1, OUTPUT0, OUTPUT1, 64 bytes each
    const io = create('load', clients * perClient * slice);
    await s.client.registerSystemSharedMemory('load', io.key, clients * perClient * slice);
    const outcomes = { ok: 0, notFound: 0 };
    let running = true;

    // Unregisters and registers back to back, paced by its own round trips: each request finds
    // the region or not, and either outcome is right.
    const churn = (async () => {
      let cycles = 0;
      while (running || cycles < 3) {
        await s.client.unregisterSystemSharedMemory('load');
        await s.client.registerSystemSharedMemory('load', io.key, clients * perClient * slice);
        cycles++;
      }
      return cycles;
    })();

    const one = async (k: number) => {
      const at = k * slice;
      const a = sequence(1, 100 * k);
      io.writeTensor({ datatype: 'INT32', data: a }, 'load', at);
      io.writeTensor({ datatype: 'INT32', data: new Array(16).fill(k) }, 'load', at + 64);
      try {
        await s.client.infer('simple', [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], sharedMemory: { region: 'load', offset: at, byteSize: 64 } },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], sharedMemory: { region: 'load', offset: at + 64, byteSize: 64 } },
        ], { outputs: [
          { name: 'OUTPUT0', sharedMemory: { region: 'load', offset: at + 128, byteSize: 64 } },
          { name: 'OUTPUT1', sharedMemory: { region: 'load', offset: at + 192, byteSize: 64 } },
        ] });
      } catch (err) {
        assert.ok(err instanceof HttpError, String(err));
        assert.equal(err.status, 404, err.message);
        assert.equal(err.message, "Unable to find shared memory region: 'load'");
        outcomes.notFound++;
        return;
      }
      assert.deepEqual([...(io.readTensor('INT32', [1, 16], at + 128) as Int32Array)], a.map((v) => v + k), `request ${k}`);
      assert.deepEqual([...(io.readTensor('INT32', [1, 16], at + 192) as Int32Array)], a.map((v) => v - k), `request ${k}`);
      outcomes.ok++;
    };
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) await one(c * perClient + i);
    }));
    running = false;
    const cycles = await churn;
    t.diagnostic(`${outcomes.ok} succeeded, ${outcomes.notFound} found no region, over ${cycles} unregister/register cycles`);
    assert.equal(outcomes.ok + outcomes.notFound, clients * perClient);

    await s.client.unregisterSystemSharedMemory();
    assert.equal(openSharedObjects(), 0, 'no descriptor outlives the requests');
    const plain = await s.client.infer('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
    ]);
    assert.deepEqual(plain.outputs[0].data, sequence(1, 1));
  });
});
