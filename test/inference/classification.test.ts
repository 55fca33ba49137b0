import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { datatypeFromWire, type TypedArray } from '../../src/dtypes.ts';
import { classify, formatFixed } from '../../src/inference/classification.ts';
import type { InferOutput } from '../../src/inference/infer-request.ts';

const output = (wire: string, shape: number[], values: TypedArray): InferOutput => ({
  name: 'Y', datatype: datatypeFromWire(wire)!, shape, data: values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength) as ArrayBuffer,
});

describe('classify', () => {
  test("ranks a whole output without a batch dimension, as Triton's example", () => {
    const out = classify(output('FP32', [4], Float32Array.of(1.1, 3.3, 0.5, 2.4)), 2, false, null);
    assert.equal(out.datatype.wire, 'BYTES');
    assert.deepEqual(out.shape, [2]);
    assert.deepEqual(out.data, ['3.300000:1', '2.400000:3']);
  });

  test('ranks each row of a batched output, with labels where the file has them', () => {
    const out = classify(output('INT32', [2, 3], Int32Array.of(5, 9, 7, 30, 10, 20)), 2, true, ['a', '', 'c']);
    assert.deepEqual(out.shape, [2, 2]);
    // Index 1 has an empty line in the label file: no label, as Triton.
    assert.deepEqual(out.data, ['9:1', '7:2:c', '30:0:a', '20:2:c']);
  });

  test('answers at most the row size, however many classes are asked for', () => {
    const out = classify(output('UINT8', [1, 3], Uint8Array.of(1, 3, 2)), 10, true, null);
    assert.deepEqual(out.shape, [1, 3]);
    assert.deepEqual(out.data, ['3:1', '2:2', '1:0']);
  });

  test('flattens the dims after the batch dimension into one row', () => {
    const out = classify(output('FP64', [1, 2, 2], Float64Array.of(0.25, -1, 4, 0)), 1, true, null);
    assert.deepEqual(out.shape, [1, 1]);
    assert.deepEqual(out.data, ['4.000000:2']);
  });

  test('compares 64-bit integers exactly and keeps equal values in index order', () => {
    const big = 2n ** 62n;
    const out = classify(output('INT64', [4], BigInt64Array.of(big, big + 1n, -5n, big + 1n)), 3, false, null);
    assert.deepEqual(out.data, [`${big + 1n}:1`, `${big + 1n}:3`, `${big}:0`]);
  });

  test('refuses types Triton does not rank', () => {
    for (const wire of ['FP16', 'BF16', 'BOOL']) {
      assert.throws(() => classify(output(wire, [2], Uint16Array.of(1, 2)), 1, false, null), { message: `class result not available for output due to unsupported type '${wire}'` });
    }
  });
});

describe('formatFixed prints as C\'s %f', () => {
  const cases: [number, string][] = [
    [0, '0.000000'], [-0, '-0.000000'], [3.3, '3.300000'], [Math.fround(3.3), '3.300000'], [-1e-9, '-0.000000'],
    [123456.7890123, '123456.789012'], [1e21, '1000000000000000000000.000000'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'],
  ];
  for (const [value, text] of cases) test(`${value} → ${text}`, () => assert.equal(formatFixed(value), text));
});
