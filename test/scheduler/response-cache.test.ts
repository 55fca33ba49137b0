import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { datatypeFromWire } from '../../src/dtypes.ts';
import type { InferOutput, InferRequest, TensorData } from '../../src/inference/infer-request.ts';
import { cacheKey, ResponseCache } from '../../src/scheduler/response-cache.ts';

const FP32 = datatypeFromWire('FP32')!;
/** An output of `n` bytes. */
const output = (n: number, name = 'Y'): InferOutput => ({ name, datatype: FP32, shape: [n / 4], data: new ArrayBuffer(n) });
const raw = (...bytes: number[]): TensorData => ({ kind: 'raw', bytes: Uint8Array.from(bytes) });
const request = (fields: Partial<InferRequest> = {}): InferRequest => ({
  id: undefined,
  inputs: [{ name: 'A', datatype: 'UINT8', shape: [1, 2], data: raw(1, 2) }, { name: 'B', datatype: 'UINT8', shape: [1, 1], data: raw(3) }],
  outputs: null,
  parameters: {},
  ...fields,
});

describe('ResponseCache', () => {
  test('answers what was stored, as a copy of the response', () => {
    const cache = new ResponseCache(10_000);
    const stored = output(8);
    new Float32Array(stored.data as ArrayBuffer)[0] = 1.5;
    assert.equal(cache.insert('k', [stored]), true);
    new Float32Array(stored.data as ArrayBuffer)[0] = 9; // the request's buffer may change later
    const hit = cache.lookup('k')!;
    assert.deepEqual(Array.from(new Float32Array(hit.outputs[0].data as ArrayBuffer)), [1.5, 0]);
    assert.equal(cache.lookup('other'), undefined);
  });

  test('keeps within its size, evicting the least recently used entry first', () => {
    const cache = new ResponseCache(3 * 1400);
    for (const k of ['a', 'b', 'c']) assert.equal(cache.insert(k, [output(1000)]), true);
    assert.equal(cache.count, 3);
    cache.lookup('a'); // now b is the least recently used
    cache.insert('d', [output(1000)]);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => cache.lookup(k) !== undefined), [true, false, true, true]);
    assert.ok(cache.usedBytes <= cache.sizeBytes);
  });

  test('evicts as many entries as a large one needs, and never keeps one larger than itself', () => {
    const cache = new ResponseCache(4000);
    for (const k of ['a', 'b', 'c']) cache.insert(k, [output(800)]);
    assert.equal(cache.insert('big', [output(3000)]), true);
    assert.equal(cache.count, 1);
    assert.equal(cache.insert('huge', [output(8000)]), false);
    assert.equal(cache.lookup('big') !== undefined, true);
  });

  test('counts BYTES outputs by their UTF-8 bytes', () => {
    const cache = new ResponseCache(100_000);
    cache.insert('s', [{ name: 'S', datatype: datatypeFromWire('BYTES')!, shape: [2], data: ['é', 'abc'] }]);
    const empty = new ResponseCache(100_000);
    empty.insert('s', [{ name: 'S', datatype: datatypeFromWire('BYTES')!, shape: [0], data: [] }]);
    assert.equal(cache.usedBytes - empty.usedBytes, 4 + 2 + 4 + 3);
  });
});

describe('cacheKey', () => {
  const key = (fields: Partial<InferRequest> = {}, model = 'm', version = 1) => cacheKey(model, version, request(fields));

  test('is the same for the same model, version, inputs and outputs, in any input order', () => {
    assert.equal(key(), key());
    const swapped = request();
    assert.equal(key({ inputs: [...swapped.inputs].reverse() }), key());
    assert.equal(key({ id: 'other id', parameters: { priority: 1 } }), key());
  });

  test('differs with the model, the version, any byte, the datatype, the shape or the outputs asked for', () => {
    const base = key();
    const variants = [
      key({}, 'n'),
      key({}, 'm', 2),
      key({ inputs: [{ name: 'A', datatype: 'UINT8', shape: [1, 2], data: raw(1, 9) }, request().inputs[1]] }),
      key({ inputs: [{ name: 'A', datatype: 'INT8', shape: [1, 2], data: raw(1, 2) }, request().inputs[1]] }),
      key({ inputs: [{ name: 'A', datatype: 'UINT8', shape: [2, 1], data: raw(1, 2) }, request().inputs[1]] }),
      key({ outputs: [{ name: 'Y', binary: false }] }),
    ];
    assert.equal(new Set([base, ...variants]).size, variants.length + 1);
  });

  test('tells BYTES elements apart by their lengths', () => {
    const strings = (...s: string[]): TensorData => ({ kind: 'strings', strings: s });
    const a = key({ inputs: [{ name: 'S', datatype: 'BYTES', shape: [2], data: strings('ab', 'c') }] });
    const b = key({ inputs: [{ name: 'S', datatype: 'BYTES', shape: [2], data: strings('a', 'bc') }] });
    assert.notEqual(a, b);
  });

  test('is null for a request with data in client shared memory, which is not cached', () => {
    const sink = { accept() {} };
    assert.equal(key({ outputs: [{ name: 'Y', binary: false, sink }] }), null);
    const region: TensorData = { kind: 'region', file: { fd: 3, position: 0, byteLength: 4 } as never, failed() {} };
    assert.equal(key({ inputs: [{ name: 'A', datatype: 'UINT8', shape: [1, 4], data: region }] }), null);
  });
});
