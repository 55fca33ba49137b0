import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { datatypeFromWire } from '../../src/dtypes.ts';
import { assembleBatch } from '../../src/scheduler/batch-assembly.ts';
import { planDirectOutputs } from '../../src/scheduler/batch-split.ts';
import type { ModelConfig } from '../../src/model-config/model-config.ts';
import type { InferInput, TensorSink } from '../../src/inference/infer-request.ts';
import { RequestRegions } from '../../src/inference/request-regions.ts';
import { ClientRegions, isFilePart, isGatheredTensor, isSlotTensor, type GatheredTensor } from '../../src/shm/index.ts';
import { makeShmObject, removeAll } from '../helpers/shm.ts';

const INT32 = datatypeFromWire('INT32')!;
const tensor = (name: string, wire: string) => ({ name, datatype: datatypeFromWire(wire)!, dims: [2], reshape: null, optional: false, labels: null });
const config = {
  name: 'm', maxBatchSize: 8, inputs: [tensor('X', 'INT32')], outputs: [tensor('Y', 'INT32'), tensor('S', 'BYTES')],
} as unknown as ModelConfig;
const int32 = (values: number[]) => new Uint8Array(new Int32Array(values).buffer);

after(removeAll);

describe('tensors a worker reads and writes in client regions', () => {
  const object = makeShmObject(256, int32([7, 8, 9, 10]));
  const registry = new ClientRegions({ allowed: true, maxTotalBytes: 1 << 20 });
  registry.register('r', object.key, 0, 256);
  after(() => registry.close());

  test('leaves region inputs out of the slot: a gathered part names the descriptor and position instead', () => {
    const regions = new RequestRegions(registry, 'req', 'm');
    const fromRegion = regions.input('X', INT32, 2, { region: 'r', offset: 8, byteSize: 8 });
    const inBody = { kind: 'raw', bytes: int32([1, 2, 3, 4]) } as const;
    const requests: InferInput[][] = [
      [{ name: 'X', datatype: 'INT32', shape: [2, 2], data: inBody }],
      [{ name: 'X', datatype: 'INT32', shape: [1, 2], data: fromRegion }],
    ];
    const slot = new Uint8Array(4096);
    const batch = assembleBatch(config, requests, slot);
    const x = batch.inputs[0];
    assert.ok(isGatheredTensor(x) && !isSlotTensor(x));
    const gathered = x as GatheredTensor;
    assert.deepEqual(gathered.dims, [3, 2]);
    assert.equal(gathered.byteLength, 24);
    assert.deepEqual(gathered.parts[0], { offset: 0, byteLength: 16 });
    const part = gathered.parts[1];
    assert.ok(isFilePart(part));
    assert.deepEqual({ ...part.file, fd: typeof part.file.fd }, { fd: 'number', position: 8, byteLength: 8 });
    assert.equal(part.request, 1);
    assert.equal(batch.sources[part.source], fromRegion);
    assert.deepEqual([...new Int32Array(slot.buffer, 0, 6)], [1, 2, 3, 4, 0, 0], 'only the body input was written');
    // A failure the worker reports fails that request.
    batch.sources[0].failed('EIO');
    assert.throws(() => regions.finish(), { reason: 'SHM_IO_FAILED', message: "shared memory region 'r' could not be read: EIO" });
    regions.release();
  });

  test('plans the writes of numeric region outputs at each request\'s rows, and says which need no copy back', () => {
    const regions = new RequestRegions(registry, 'req', 'm');
    const y = regions.output('Y', { region: 'r', offset: 64, byteSize: 32 });
    const s = regions.output('S', { region: 'r', offset: 128, byteSize: 64 });
    const sinks = [undefined, new Map<string, TensorSink>([['Y', y], ['S', s]])];
    const mixed = planDirectOutputs(config, ['Y', 'S'], [2, 3], [null, null], sinks);
    assert.deepEqual(mixed.direct.map((d) => [d.name, d.request, d.rows, d.file.position, d.file.byteLength]), [['Y', 1, [2, 3], 64, 32]]);
    assert.deepEqual(mixed.writtenOnly, [], 'request 0 wants Y back');
    assert.deepEqual(mixed.delivered.map((d) => (d ? [...d] : null)), [null, ['Y']], 'BYTES outputs stay with the primary');
    const alone = planDirectOutputs(config, ['Y'], [2, 3], [new Set(['S']), new Set(['Y'])], sinks);
    assert.deepEqual(alone.writtenOnly, ['Y'], 'nobody wants Y back from the worker');
    alone.sinks[0].settle({ tooLarge: 40 });
    assert.throws(() => regions.finish(), { reason: 'SHM_OUTPUT_TOO_SMALL' });
    regions.release();
  });

  test('records what the worker wrote into a region output', () => {
    const regions = new RequestRegions(registry, 'req', 'm');
    regions.output('Y', { region: 'r', offset: 64, byteSize: 32 }).direct!.settle({ written: 24 });
    regions.finish();
    assert.equal(regions.bytesWritten('Y'), 24);
    regions.release();
  });
});
