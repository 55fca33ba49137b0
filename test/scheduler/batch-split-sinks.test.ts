import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { datatypeFromWire } from '../../src/dtypes.ts';
import { splitBatch } from '../../src/scheduler/batch-split.ts';
import type { ModelConfig } from '../../src/model-config/model-config.ts';
import type { TensorSink } from '../../src/inference/infer-request.ts';
import type { BatchTensor } from '../../src/shm/index.ts';

const tensor = (name: string, wire: string) => ({ name, datatype: datatypeFromWire(wire)!, dims: [2], reshape: null, optional: false, labels: null });
const config = { name: 'm', maxBatchSize: 8, outputs: [tensor('Y', 'INT32'), tensor('S', 'BYTES')] } as unknown as ModelConfig;

/** A sink that records what it was handed (copied: the slot view is valid during the call only). */
function recorder(): TensorSink & { got: (number[] | readonly string[])[] } {
  const got: (number[] | readonly string[])[] = [];
  return { got, accept: (data) => got.push(data instanceof Uint8Array ? [...new Int32Array(data.slice().buffer)] : [...data]) };
}

describe('splitting a batch with output sinks', () => {
  // Three requests of 1, 2 and 1 rows; Y holds row r's values 10r and 10r+1 in the slot at 16.
  const slot = new Uint8Array(64 + 32);
  new Int32Array(slot.buffer, 16, 8).set([0, 1, 10, 11, 20, 21, 30, 31]);
  const outputs: BatchTensor[] = [
    { name: 'Y', type: 'int32', dims: [4, 2], offset: 16, byteLength: 32 },
    { name: 'S', type: 'string', dims: [4, 2], strings: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] },
  ];

  test("hands each sink only its request's rows, straight from the slot, and answers no bytes for them", () => {
    const y1 = recorder();
    const s2 = recorder();
    const results = splitBatch(config, outputs, slot, [1, 2, 1], [null, null, null], [undefined, new Map([['Y', y1]]), new Map([['S', s2]])]);
    assert.deepEqual(y1.got, [[10, 11, 20, 21]]);
    assert.deepEqual(s2.got, [['g', 'h']]);
    assert.equal((results[1][0].data as ArrayBuffer).byteLength, 0);
    assert.deepEqual(results[1][0].shape, [2, 2], 'the shape is still answered');
    assert.deepEqual([...new Int32Array(results[0][0].data as ArrayBuffer)], [0, 1], 'requests without sinks get their own copy');
    assert.deepEqual(results[1][1].data, ['c', 'd', 'e', 'f']);
    assert.deepEqual(results[2][1].data, []);
  });

  test('leaves out outputs a request did not ask for, sink or not', () => {
    const y = recorder();
    const results = splitBatch(config, outputs, slot, [4], [new Set(['S'])], [new Map([['Y', y]])]);
    assert.deepEqual(y.got, []);
    assert.deepEqual(results[0].map((o) => o.name), ['S']);
  });
});
