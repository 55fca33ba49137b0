import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';
import { encodeBytesElements } from '../../src/bytes-elements.ts';
import { datatypeFromWire } from '../../src/dtypes.ts';
import { ServerError } from '../../src/errors.ts';
import type { TensorData } from '../../src/inference/infer-request.ts';
import { copyNumeric } from '../../src/inference/tensor-data.ts';
import { RequestRegions } from '../../src/inference/request-regions.ts';
import { ClientRegions, openSharedObjects } from '../../src/shm/index.ts';
import { makeShmObject, readShm, removeAll } from '../helpers/shm.ts';

const INT32 = datatypeFromWire('INT32')!;
const BYTES = datatypeFromWire('BYTES')!;
const int32 = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);

/** Region contents as the batcher sees them: a file range of the tensor's size. */
function regionData(data: TensorData): Extract<TensorData, { kind: 'region' }> {
  assert.equal(data.kind, 'region');
  return data as Extract<TensorData, { kind: 'region' }>;
}

/** A registry with region 'r' over a fresh 256-byte object holding `bytes` at its start. */
function setUp(bytes?: Uint8Array) {
  const object = makeShmObject(256, bytes);
  const registry = new ClientRegions({ allowed: true, maxTotalBytes: 1 << 20 });
  registry.register('r', object.key, 0, 256);
  return { object, registry, regions: new RequestRegions(registry, 'req-1', 'm') };
}

after(removeAll);

describe('a request reading and writing client regions', () => {
  test('reads a numeric input into the target only when the batch is formed, and writes an output once', () => {
    const { object, registry, regions } = setUp(int32([1, 2, 3, 4]));
    const data = regionData(regions.input('X', INT32, 4, { region: 'r', offset: 0, byteSize: 16 }));
    assert.deepEqual({ position: data.file.position, byteLength: data.file.byteLength }, { position: 0, byteLength: 16 });
    const slot = new Uint8Array(new SharedArrayBuffer(16));
    copyNumeric(data, slot);
    assert.deepEqual([...new Int32Array(slot.buffer)], [1, 2, 3, 4]);
    regions.output('Y', { region: 'r', offset: 64, byteSize: 32 }).accept(int32([9, 8]));
    regions.finish();
    assert.equal(regions.bytesWritten('Y'), 8);
    assert.deepEqual([...readShm(object, 64, 8)], [...int32([9, 8])]);
    assert.equal(openSharedObjects(), 1);
    regions.release();
    registry.close();
    assert.equal(openSharedObjects(), 0);
  });

  test('decodes BYTES inputs at once and serializes BYTES outputs', () => {
    const { object, registry, regions } = setUp(encodeBytesElements(['ab', '', 'c']));
    assert.deepEqual(regions.input('S', BYTES, 3, { region: 'r', offset: 0, byteSize: 15 }), { kind: 'strings', strings: ['ab', '', 'c'] });
    regions.output('T', { region: 'r', offset: 100, byteSize: 20 }).accept(['xyz']);
    regions.finish();
    assert.equal(regions.bytesWritten('T'), 7);
    assert.deepEqual(readShm(object, 100, 7), encodeBytesElements(['xyz']));
    regions.release();
    registry.close();
  });

  test('refuses an input range that is not exactly its tensor, and BYTES that do not fill it', () => {
    const { registry, regions } = setUp(encodeBytesElements(['ab']));
    assert.throws(() => regions.input('X', INT32, 4, { region: 'r', offset: 0, byteSize: 20 }), {
      reason: 'SHM_INPUT_SIZE',
      message: "[request id: req-1] input byte size mismatch for input 'X' for model 'm'. Expected 16, got 20",
    });
    assert.throws(() => regions.input('S', BYTES, 1, { region: 'r', offset: 0, byteSize: 10 }), { reason: 'DATA_SIZE_MISMATCH', message: /4 bytes beyond/ });
    regions.release();
    assert.equal(openSharedObjects(), 1, 'the leases of refused tensors are released too');
    registry.close();
  });

  test('keeps an output too large for its range for finish(), without writing it or throwing into the scheduler', () => {
    const { object, registry, regions } = setUp();
    const sink = regions.output('Y', { region: 'r', offset: 0, byteSize: 4 });
    sink.accept(int32([1, 2]));
    assert.throws(() => regions.finish(), {
      reason: 'SHM_OUTPUT_TOO_SMALL',
      message: "shared memory size specified with the request for output 'Y' (4 bytes) should be at least 8 bytes to hold the results",
    });
    assert.deepEqual([...readShm(object, 0, 8)], new Array(8).fill(0));
    regions.release();
    registry.close();
  });

  test('zero-fills an input it could not read, reports it, and then writes no output', () => {
    const { object, registry, regions } = setUp(int32([5, 6, 7, 8]));
    const data = regionData(regions.input('X', INT32, 4, { region: 'r', offset: 0, byteSize: 16 }));
    const sink = regions.output('Y', { region: 'r', offset: 64, byteSize: 16 });
    fs.truncateSync(object.path, 8); // the client shrinks its object while the request waits
    const slot = new Uint8Array(16).fill(0xee); // an earlier batch's bytes
    copyNumeric(data, slot);
    assert.deepEqual([...slot], new Array(16).fill(0));
    sink.accept(int32([1, 2, 3, 4]));
    assert.throws(() => regions.finish(), (err: unknown) => err instanceof ServerError && err.reason === 'SHM_IO_FAILED' && /could not be read/.test(err.message));
    assert.equal(fs.statSync(object.path).size, 8, 'nothing was written (a write would have grown it)');
    regions.release();
    registry.close();
  });
});
