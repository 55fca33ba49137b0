import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_DATATYPES, datatypeFromElement, elementTypeOf, typedArrayOver } from '../src/dtypes.ts';

describe('element types (the worker side\'s names)', () => {
  for (const d of ALL_DATATYPES.filter((t) => t.ort !== null && t.array !== null)) {
    test(`${d.wire} is '${d.ort}', held in a ${d.array!.name} of ${d.byteSize}-byte elements`, () => {
      const buffer = new ArrayBuffer(4 * 8);
      const array = typedArrayOver(d.ort!, buffer, 2 * d.byteSize);
      assert.ok(array instanceof d.array!);
      assert.equal(array.length, 2);
      assert.equal(array.buffer, buffer, 'a view over the buffer, not a copy');
      assert.equal(array.byteOffset, 0);
    });
  }

  test('BYTES is \'string\', which has no typed array', () => {
    assert.equal(ALL_DATATYPES.find((d) => d.ort === 'string')?.wire, 'BYTES');
    assert.throws(() => typedArrayOver('string', new ArrayBuffer(8), 8), { message: "tensor type 'string' has no typed array" });
  });

  test('BF16 has no onnxruntime name; the worker side calls it bfloat16, 16-bit patterns; an unknown name has no typed array', () => {
    const bf16 = ALL_DATATYPES.find((d) => d.wire === 'BF16')!;
    assert.equal(bf16.ort, null);
    assert.equal(elementTypeOf(bf16), 'bfloat16');
    assert.equal(datatypeFromElement('bfloat16'), bf16);
    assert.ok(typedArrayOver('bfloat16', new ArrayBuffer(8), 8) instanceof Uint16Array);
    assert.throws(() => typedArrayOver('bfloat8', new ArrayBuffer(8), 8), { message: "tensor type 'bfloat8' has no typed array" });
  });

  test('views a SharedArrayBuffer too, for the primary side', () => {
    const array = typedArrayOver('float32', new SharedArrayBuffer(16), 16);
    assert.ok(array instanceof Float32Array);
    assert.equal(array.length, 4);
  });
});
