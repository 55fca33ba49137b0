/**
 * Client system shared memory over gRPC, end to end: the registration RPCs, inference on `simple`
 * with inputs and outputs in real regions under /dev/shm (unary and streaming, alone and mixed
 * with raw contents), every refusal with its gRPC code, the CUDA RPCs, and one registry shared
 * with the HTTP front-end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { parametersFromMessage, type ModelInferRequestMessage, type ModelInferResponseMessage } from '../../../src/protocol/grpc-messages.ts';
import { encodeGrpcInferRequest, SharedMemoryRegion, type ClientShmTensor } from '../../../src/client/index.ts';
import { openSharedObjects } from '../../../src/shm/index.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';
import { repositoryOf, sequence } from '../../helpers/server.ts';
import { makeShmObject, removeAll, uniqueShmName } from '../../helpers/shm.ts';

const ones = (rows: number) => new Array(rows * 16).fill(1);
const plus = (values: number[], k: number) => values.map((v) => v + k);
const FLAG = /Start the server with '--allow-client-shm=true' to enable/;

async function rejectsWith(promise: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `code ${err.code} (${err.details})`);
    assert.match(err.details, message);
    return true;
  });
}

const shmInput = (name: string, rows: number, ref: ClientShmTensor['sharedMemory']): ClientShmTensor => ({ name, datatype: 'INT32', shape: [rows, 16], sharedMemory: ref });
const rawInput = (name: string, data: number[]) => ({ name, datatype: 'INT32', shape: [data.length / 16, 16], data: Int32Array.from(data) });
const int32s = (bytes: Uint8Array) => [...new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];

describe('gRPC system shared memory', () => {
  let ts: GrpcTestServer;
  const regions: SharedMemoryRegion[] = [];
  /** A client region of `size` bytes, registered over gRPC as `name`. */
  const region = async (name: string, size: number): Promise<SharedMemoryRegion> => {
    const r = SharedMemoryRegion.create(`/${uniqueShmName(name)}`, size);
    regions.push(r);
    await ts.grpc.systemSharedMemoryRegister(name, r.key, size);
    return r;
  };

  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`, '--allow-client-shm=true']);
  });
  after(async () => {
    await ts.close();
    for (const r of regions) r.destroy();
    removeAll();
  });

  test('registers, reports and unregisters regions, one by one and all at once', async () => {
    const object = makeShmObject(128, undefined, 'grpc-reg');
    await ts.grpc.systemSharedMemoryRegister('reg-a', object.key, 128);
    await ts.grpc.systemSharedMemoryRegister('reg-b', object.key, 64, 64);
    assert.deepEqual(await ts.grpc.systemSharedMemoryStatus(), {
      'reg-a': { name: 'reg-a', key: object.key, offset: '0', byte_size: '128' },
      'reg-b': { name: 'reg-b', key: object.key, offset: '64', byte_size: '64' },
    });
    assert.deepEqual(await ts.grpc.systemSharedMemoryStatus('reg-b'), { 'reg-b': { name: 'reg-b', key: object.key, offset: '64', byte_size: '64' } });
    // One registry for both front-ends.
    assert.deepEqual((await ts.client.systemSharedMemoryStatus()).map((r) => r.name).sort(), ['reg-a', 'reg-b']);

    await ts.grpc.systemSharedMemoryUnregister('reg-a');
    await rejectsWith(ts.grpc.systemSharedMemoryStatus('reg-a'), grpc.status.NOT_FOUND, /Unable to find system shared memory region: 'reg-a'/);
    await ts.grpc.systemSharedMemoryUnregister('never-registered');
    await ts.grpc.systemSharedMemoryUnregister();
    assert.deepEqual(await ts.grpc.systemSharedMemoryStatus(), {});
    assert.equal(openSharedObjects(), 0);
  });

  test('reads inputs from and writes outputs into one region per tensor, batch 1', async () => {
    const in0 = await region('b1-in0', 64);
    const in1 = await region('b1-in1', 64);
    const out0 = await region('b1-out0', 64);
    const out1 = await region('b1-out1', 64);
    const res = await ts.grpc.infer('simple', [
      shmInput('INPUT0', 1, in0.writeTensor({ datatype: 'INT32', data: sequence(1) }, 'b1-in0')),
      shmInput('INPUT1', 1, in1.writeTensor({ datatype: 'INT32', data: ones(1) }, 'b1-in1')),
    ], {
      id: 'b1',
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'b1-out0', byteSize: 64 } }, { name: 'OUTPUT1', sharedMemory: { region: 'b1-out1', byteSize: 64 } }],
    });
    assert.equal(res.id, 'b1');
    assert.deepEqual(res.outputs.map((o) => [o.name, o.datatype, o.shape, o.parameters, o.data]), [
      ['OUTPUT0', 'INT32', [1, 16], { shared_memory_region: 'b1-out0', shared_memory_byte_size: 64 }, []],
      ['OUTPUT1', 'INT32', [1, 16], { shared_memory_region: 'b1-out1', shared_memory_byte_size: 64 }, []],
    ]);
    assert.deepEqual([...(out0.readTensor('INT32', [1, 16]) as Int32Array)], plus(sequence(1), 1));
    assert.deepEqual([...(out1.readTensor('INT32', [1, 16]) as Int32Array)], plus(sequence(1), -1));
    assert.equal(openSharedObjects(), 4, 'the request released its leases; the four registrations remain');
  });

  test('reads and writes a batch of 3 at offsets within one region, with no raw contents at all', async () => {
    const io = await region('b3', 4 * 192 + 64);
    const a = io.writeTensor({ datatype: 'INT32', data: sequence(3) }, 'b3', 0);
    const b = io.writeTensor({ datatype: 'INT32', data: sequence(3, 100) }, 'b3', 192);
    const msg = encodeGrpcInferRequest('simple', [shmInput('INPUT0', 3, a), shmInput('INPUT1', 3, b)], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'b3', offset: 384, byteSize: 192 } }, { name: 'OUTPUT1', sharedMemory: { region: 'b3', offset: 576, byteSize: 256 } }],
    });
    assert.equal(msg.raw_input_contents.length, 0);
    const res = await ts.grpc.call<ModelInferResponseMessage>('ModelInfer', msg);
    assert.equal(res.raw_output_contents.length, 0);
    assert.deepEqual(res.outputs.map((o) => [o.shape.map(Number), parametersFromMessage(o.parameters)]), [
      [[3, 16], { shared_memory_region: 'b3', shared_memory_offset: 384, shared_memory_byte_size: 192 }],
      [[3, 16], { shared_memory_region: 'b3', shared_memory_offset: 576, shared_memory_byte_size: 192 }],
    ]);
    assert.deepEqual([...(io.readTensor('INT32', [3, 16], 384) as Int32Array)], sequence(3).map((v, i) => v + sequence(3, 100)[i]));
    assert.deepEqual([...(io.readTensor('INT32', [3, 16], 576) as Int32Array)], new Array(48).fill(-100));
    assert.deepEqual([...io.read(768, 64)], new Array(64).fill(0), 'the bytes after the output are untouched');
  });

  test('mixes region tensors with raw contents: raw entries line up with the tensors not in shared memory', async () => {
    const io = await region('mix', 256);
    // INPUT0 raw, INPUT1 from the region: the one raw entry is INPUT0's.
    const ref1 = io.writeTensor({ datatype: 'INT32', data: ones(1) }, 'mix', 0);
    const first = await ts.grpc.call<ModelInferResponseMessage>('ModelInfer', encodeGrpcInferRequest('simple', [rawInput('INPUT0', sequence(1, 10)), shmInput('INPUT1', 1, ref1)], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'mix', offset: 64, byteSize: 64 } }, 'OUTPUT1'],
    }));
    assert.deepEqual(first.outputs.map((o) => o.name), ['OUTPUT0', 'OUTPUT1']);
    assert.equal(first.raw_output_contents.length, 1, 'only OUTPUT1, the output not in shared memory, has raw contents');
    assert.deepEqual(int32s(first.raw_output_contents[0]), plus(sequence(1, 10), -1));
    assert.deepEqual(first.outputs[1].parameters, {});
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 64) as Int32Array)], plus(sequence(1, 10), 1));

    // INPUT0 from the region, INPUT1 raw; OUTPUT0 raw, OUTPUT1 into the region (the raw entry is OUTPUT0's).
    const ref0 = io.writeTensor({ datatype: 'INT32', data: sequence(1, 20) }, 'mix', 128);
    const second = await ts.grpc.infer('simple', [shmInput('INPUT0', 1, ref0), rawInput('INPUT1', ones(1))], {
      outputs: ['OUTPUT0', { name: 'OUTPUT1', sharedMemory: { region: 'mix', offset: 192, byteSize: 64 } }],
    });
    assert.deepEqual([...(second.outputs[0].data as Int32Array)], plus(sequence(1, 20), 1));
    assert.deepEqual(second.outputs[1].parameters, { shared_memory_region: 'mix', shared_memory_offset: 192, shared_memory_byte_size: 64 });
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 192) as Int32Array)], plus(sequence(1, 20), -1));

    // Typed contents mix with region inputs as well; outputs not asked for come back raw.
    const third = await ts.grpc.infer('simple', [shmInput('INPUT0', 1, ref0), rawInput('INPUT1', ones(1))], { contents: 'typed' });
    assert.deepEqual([...(third.outputs[0].data as Int32Array)], plus(sequence(1, 20), 1));
    assert.deepEqual([...(third.outputs[1].data as Int32Array)], plus(sequence(1, 20), -1));
  });

  test('takes int64 parameters given as decimal strings', async () => {
    const io = await region('strings', 128);
    io.writeTensor({ datatype: 'INT32', data: sequence(1, 5) }, 'strings', 0);
    io.writeTensor({ datatype: 'INT32', data: ones(1) }, 'strings', 64);
    const shm = (offset: number) => ({ shared_memory_region: { string_param: 'strings' }, shared_memory_offset: { int64_param: String(offset) }, shared_memory_byte_size: { int64_param: '64' } });
    const res = await ts.grpc.call<ModelInferResponseMessage>('ModelInfer', {
      model_name: 'simple',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: shm(0) }, { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: shm(64) }],
      outputs: [{ name: 'OUTPUT0', parameters: shm(0) }],
    });
    assert.equal(res.raw_output_contents.length, 0);
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 0) as Int32Array)], plus(sequence(1, 5), 1));
  });

  test('serves regions on a ModelStreamInfer stream, answering a refusal in its place and going on', async () => {
    const io = await region('stream', 256);
    const ref0 = io.writeTensor({ datatype: 'INT32', data: sequence(1, 30) }, 'stream', 0);
    const ref1 = io.writeTensor({ datatype: 'INT32', data: ones(1) }, 'stream', 64);
    const stream = ts.grpc.stream();
    const outputs = [{ name: 'OUTPUT0', sharedMemory: { region: 'stream', offset: 128, byteSize: 64 } }, 'OUTPUT1'];
    stream.send('simple', [shmInput('INPUT0', 1, ref0), shmInput('INPUT1', 1, ref1)], { id: 's1', outputs });
    stream.send('simple', [shmInput('INPUT0', 1, { region: 'nope', byteSize: 64 }), shmInput('INPUT1', 1, ref1)], { id: 's2' });
    stream.send('simple', [shmInput('INPUT0', 1, ref0), shmInput('INPUT1', 1, ref1)], { id: 's3', outputs });
    const [s1, s2, s3] = [await stream.next(), await stream.next(), await stream.next()];
    await stream.end();
    assert.deepEqual([s1.id, s1.error, s2.id, s3.id, s3.error], ['s1', null, 's2', 's3', null]);
    assert.match(s2.error!, /Unable to find shared memory region: 'nope'/);
    for (const s of [s1, s3]) {
      assert.deepEqual(s.result!.outputs[0].parameters, { shared_memory_region: 'stream', shared_memory_offset: 128, shared_memory_byte_size: 64 });
      assert.deepEqual([...(s.result!.outputs[1].data as Int32Array)], plus(sequence(1, 30), -1));
    }
    assert.deepEqual([...(io.readTensor('INT32', [1, 16], 128) as Int32Array)], plus(sequence(1, 30), 1));
  });

  test('uses a region registered over HTTP, and HTTP sees one unregistered over gRPC', async () => {
    const r = SharedMemoryRegion.create(`/${uniqueShmName('via-http')}`, 192);
    regions.push(r);
    await ts.client.registerSystemSharedMemory('via-http', r.key, 192);
    assert.deepEqual(await ts.grpc.systemSharedMemoryStatus('via-http'), { 'via-http': { name: 'via-http', key: r.key, offset: '0', byte_size: '192' } });
    const a = r.writeTensor({ datatype: 'INT32', data: sequence(1, 7) }, 'via-http', 0);
    const b = r.writeTensor({ datatype: 'INT32', data: ones(1) }, 'via-http', 64);
    const res = await ts.grpc.infer('simple', [shmInput('INPUT0', 1, a), shmInput('INPUT1', 1, b)], {
      outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'via-http', offset: 128, byteSize: 64 } }],
    });
    assert.deepEqual(res.outputs.map((o) => o.name), ['OUTPUT0']);
    assert.deepEqual([...(r.readTensor('INT32', [1, 16], 128) as Int32Array)], plus(sequence(1, 7), 1));
    await ts.grpc.systemSharedMemoryUnregister('via-http');
    await assert.rejects(ts.client.systemSharedMemoryStatus('via-http'), (err: { status: number }) => err.status === 404);
  });

  describe('refusals', () => {
    let io: SharedMemoryRegion;
    before(async () => {
      io = await region('ref', 128);
      io.writeTensor({ datatype: 'INT32', data: sequence(1) }, 'ref', 0);
      io.writeTensor({ datatype: 'INT32', data: ones(1) }, 'ref', 64);
    });
    const good = (): ClientShmTensor[] => [shmInput('INPUT0', 1, { region: 'ref', byteSize: 64 }), shmInput('INPUT1', 1, { region: 'ref', offset: 64, byteSize: 64 })];

    test('refuses keys that are not one plain name, objects that do not exist, and ranges past the object', async () => {
      const object = makeShmObject(64, undefined, 'grpc-bad');
      for (const key of ['/a/b', '/..', '', '/../etc/passwd']) {
        await rejectsWith(ts.grpc.systemSharedMemoryRegister('bad-key', key, 8), grpc.status.INVALID_ARGUMENT, /failed to register shared memory region 'bad-key': invalid args: the key must be one plain name/);
      }
      await rejectsWith(ts.grpc.systemSharedMemoryRegister('missing', `/${uniqueShmName('missing')}`, 8), grpc.status.INVALID_ARGUMENT, /invalid args: no shared memory object exists under the given key$/);
      await rejectsWith(ts.grpc.systemSharedMemoryRegister('too-far', object.key, 64, 8), grpc.status.INVALID_ARGUMENT, /offset \+ byte_size is 72, past the end of the 64-byte shared memory object/);
      await rejectsWith(ts.grpc.systemSharedMemoryRegister('empty', object.key, 0), grpc.status.INVALID_ARGUMENT, /byte_size must be at least 1/);
      await rejectsWith(ts.grpc.call('SystemSharedMemoryRegister', { name: 'huge', key: object.key, byte_size: '18446744073709551615' }), grpc.status.INVALID_ARGUMENT, /'byte_size' must be a non-negative integer/);
      await rejectsWith(ts.grpc.systemSharedMemoryRegister('ref', object.key, 8), grpc.status.ALREADY_EXISTS, /shared memory region 'ref' already in manager/);
      assert.deepEqual(Object.keys(await ts.grpc.systemSharedMemoryStatus()).filter((n) => ['bad-key', 'missing', 'too-far', 'empty', 'huge'].includes(n)), []);
    });

    const cases: [string, () => Promise<unknown>, grpc.status, RegExp][] = [
      ['an unknown input region', () => ts.grpc.infer('simple', [shmInput('INPUT0', 1, { region: 'nope', byteSize: 64 }), good()[1]]), grpc.status.NOT_FOUND, /Unable to find shared memory region: 'nope'/],
      ['an unknown output region', () => ts.grpc.infer('simple', good(), { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'nope', byteSize: 64 } }] }), grpc.status.NOT_FOUND, /Unable to find shared memory region: 'nope'/],
      ['an input byte size that does not match the tensor', () => ts.grpc.infer('simple', [shmInput('INPUT0', 1, { region: 'ref', byteSize: 32 }), good()[1]]), grpc.status.INVALID_ARGUMENT, /input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 32/],
      ['an input range past the region\'s end', () => ts.grpc.infer('simple', [shmInput('INPUT0', 1, { region: 'ref', offset: 96, byteSize: 64 }), good()[1]]), grpc.status.INVALID_ARGUMENT, /Invalid offset \+ byte size for shared memory region: 'ref'/],
      ['an input offset past the region\'s end', () => ts.grpc.infer('simple', [shmInput('INPUT0', 1, { region: 'ref', offset: 200, byteSize: 64 }), good()[1]]), grpc.status.INVALID_ARGUMENT, /Invalid offset for shared memory region: 'ref'/],
      ['an output range past the region\'s end', () => ts.grpc.infer('simple', good(), { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'ref', offset: 100, byteSize: 64 } }] }), grpc.status.INVALID_ARGUMENT, /Invalid offset \+ byte size for shared memory region: 'ref'/],
      ['an output range too small for the output', () => ts.grpc.infer('simple', good(), { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'ref', offset: 0, byteSize: 32 } }] }), grpc.status.INVALID_ARGUMENT, /output 'OUTPUT0' \(32 bytes\) should be at least 64 bytes/],
      ['a region input with raw contents for it too', () => ts.grpc.call('ModelInfer', { ...encodeGrpcInferRequest('simple', good()), raw_input_contents: [Buffer.alloc(64)] } as ModelInferRequestMessage), grpc.status.INVALID_ARGUMENT, /raw_input_contents has 1 entries for the 0 inputs not in shared memory/],
      ['a byte size without a region', () => ts.grpc.call('ModelInfer', { model_name: 'simple', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_byte_size: { int64_param: 64 } } }] }), grpc.status.INVALID_ARGUMENT, /input 'INPUT0': parameters.shared_memory_offset and shared_memory_byte_size need parameters.shared_memory_region/],
      ['a negative offset', () => ts.grpc.call('ModelInfer', { model_name: 'simple', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: { string_param: 'ref' }, shared_memory_offset: { int64_param: -4 }, shared_memory_byte_size: { int64_param: 64 } } }] }), grpc.status.INVALID_ARGUMENT, /input 'INPUT0': parameters.shared_memory_offset must be a non-negative integer/],
    ];
    for (const [what, call, code, message] of cases) {
      test(`refuses ${what}, leaving no lease behind`, async () => {
        const open = openSharedObjects();
        await rejectsWith(call(), code, message);
        assert.equal(openSharedObjects(), open);
      });
    }

    test('keeps serving region requests after every refusal', async () => {
      const res = await ts.grpc.infer('simple', good(), { outputs: ['OUTPUT1'] });
      assert.deepEqual([...(res.outputs[0].data as Int32Array)], plus(sequence(1), -1));
    });
  });

  test('CUDA shared memory: status lists nothing, unregister succeeds, register is refused', async () => {
    assert.deepEqual(await ts.grpc.cudaSharedMemoryStatus(), {});
    await rejectsWith(ts.grpc.cudaSharedMemoryStatus('c0'), grpc.status.NOT_FOUND, /Unable to find cuda shared memory region: 'c0'/);
    await ts.grpc.cudaSharedMemoryUnregister('c0');
    await ts.grpc.cudaSharedMemoryUnregister();
    await rejectsWith(ts.grpc.cudaSharedMemoryRegister('c0', new Uint8Array(64), 0, 64), grpc.status.UNIMPLEMENTED, /failed to register CUDA shared memory region: 'c0', /);
    assert.deepEqual(await ts.grpc.cudaSharedMemoryStatus(), {});
  });
});

describe('gRPC system shared memory when the server does not allow it', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
  });
  after(async () => {
    await ts.close();
    removeAll();
  });

  test('refuses register, unregister and region inference, naming --allow-client-shm', async () => {
    const object = makeShmObject(128, undefined, 'grpc-off');
    await rejectsWith(ts.grpc.systemSharedMemoryRegister('off', object.key, 128), grpc.status.UNIMPLEMENTED, FLAG);
    await rejectsWith(ts.grpc.systemSharedMemoryUnregister(), grpc.status.UNIMPLEMENTED, FLAG);
    await rejectsWith(ts.grpc.cudaSharedMemoryRegister('off', new Uint8Array(8), 0, 8), grpc.status.UNIMPLEMENTED, FLAG);
    await rejectsWith(ts.grpc.infer('simple', [shmInput('INPUT0', 1, { region: 'off', byteSize: 64 }), rawInput('INPUT1', ones(1))]), grpc.status.UNIMPLEMENTED, FLAG);
    await rejectsWith(ts.grpc.infer('simple', [rawInput('INPUT0', sequence(1)), rawInput('INPUT1', ones(1))], { outputs: [{ name: 'OUTPUT0', sharedMemory: { region: 'off', byteSize: 64 } }] }), grpc.status.UNIMPLEMENTED, FLAG);
    assert.deepEqual(await ts.grpc.systemSharedMemoryStatus(), {});
  });
});
