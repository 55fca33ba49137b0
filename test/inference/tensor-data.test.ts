/**
 * The tensor-data conversions as tables, in the grpc-js style: flat values (JSON `data`, gRPC
 * typed contents) and raw bytes (HTTP's binary extension, gRPC's raw_input_contents) turned into
 * tensor data, or refused with a reason and a message. Each case that succeeds goes round once
 * more: its bytes, read back as raw contents, give the same tensor data. The end-to-end refusals
 * of bad data (test/api/http/http-errors, test/api/grpc/grpc-bad-input) each have a case here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeBytesElements } from '../../src/bytes-elements.ts';
import { datatypeFromWire } from '../../src/dtypes.ts';
import { ServerError, type ErrorReason } from '../../src/errors.ts';
import type { TensorData } from '../../src/inference/infer-request.ts';
import { copyNumeric, tensorFromRaw, tensorFromValues } from '../../src/inference/tensor-data.ts';

/** The little-endian bytes of a typed array (the host is little-endian, as the server assumes). */
const le = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

interface Case {
  readonly name: string;
  readonly input: {
    readonly datatype: string;
    /** The element count of the shape (default: the number of values). */
    readonly count?: number;
    /** Values for tensorFromValues, or a Uint8Array for tensorFromRaw. */
    readonly data: ArrayLike<unknown>;
  };
  /** The expected tensor data: raw bytes, or strings for BYTES. */
  readonly output?: Uint8Array | readonly string[];
  readonly reason?: ErrorReason;
  readonly error?: RegExp;
}

const fromValues: Case[] = [
  { name: 'BOOL booleans as 1 and 0', input: { datatype: 'BOOL', data: [true, false, true] }, output: new Uint8Array([1, 0, 1]) },
  { name: 'UINT8 at both ends of its range', input: { datatype: 'UINT8', data: [0, 255] }, output: new Uint8Array([0, 255]) },
  { name: 'UINT16 at both ends of its range', input: { datatype: 'UINT16', data: [0, 65535] }, output: le(new Uint16Array([0, 65535])) },
  { name: 'UINT32 at both ends of its range', input: { datatype: 'UINT32', data: [0, 2 ** 32 - 1] }, output: le(new Uint32Array([0, 2 ** 32 - 1])) },
  { name: 'UINT64 as numbers and bigints, to 2^64 - 1', input: { datatype: 'UINT64', data: [0, 2 ** 53, 2n ** 64n - 1n] }, output: le(new BigUint64Array([0n, 2n ** 53n, 2n ** 64n - 1n])) },
  { name: 'INT8 at both ends of its range', input: { datatype: 'INT8', data: [-128, 127] }, output: le(new Int8Array([-128, 127])) },
  { name: 'INT16 at both ends of its range', input: { datatype: 'INT16', data: [-32768, 32767] }, output: le(new Int16Array([-32768, 32767])) },
  { name: 'INT32 at both ends of its range', input: { datatype: 'INT32', data: [-(2 ** 31), 2 ** 31 - 1] }, output: le(new Int32Array([-(2 ** 31), 2 ** 31 - 1])) },
  { name: 'INT64 bigints exactly, past 2^53', input: { datatype: 'INT64', data: [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n] }, output: le(new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n])) },
  { name: 'INT64 numbers', input: { datatype: 'INT64', data: [-1, 42] }, output: le(new BigInt64Array([-1n, 42n])) },
  { name: 'FP16 rounded to half precision', input: { datatype: 'FP16', data: [1, -2, 65504, 0] }, output: le(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0])) },
  { name: 'BF16 as the top half of FP32', input: { datatype: 'BF16', data: [1, -0.5] }, output: le(new Uint16Array([0x3f80, 0xbf00])) },
  { name: 'FP32 rounded to single precision', input: { datatype: 'FP32', data: [0.5, -2, 0.1] }, output: le(new Float32Array([0.5, -2, 0.1])) },
  { name: 'FP32 from a typed array (gRPC typed contents)', input: { datatype: 'FP32', data: new Float32Array([1.5, 3]) }, output: le(new Float32Array([1.5, 3])) },
  { name: 'FP64 exactly', input: { datatype: 'FP64', data: [Math.PI, -1e300] }, output: le(new Float64Array([Math.PI, -1e300])) },
  { name: 'an empty tensor as no bytes', input: { datatype: 'INT32', data: [] }, output: new Uint8Array(0) },
  { name: 'BYTES strings as they are', input: { datatype: 'BYTES', data: ['ab', '', 'βγ'] }, output: ['ab', '', 'βγ'] },

  // Values not of the datatype or out of its range.
  { name: 'a number for BOOL', input: { datatype: 'BOOL', data: [true, 1] }, reason: 'BAD_DATA', error: /^\[request id: r\] input 'X': data element 1 is not a valid BOOL value$/ },
  { name: '256 for UINT8', input: { datatype: 'UINT8', data: [256] }, reason: 'BAD_DATA', error: /data element 0 is not a valid UINT8 value/ },
  { name: '-1 for UINT16', input: { datatype: 'UINT16', data: [-1] }, reason: 'BAD_DATA', error: /not a valid UINT16 value/ },
  { name: '2^32 for UINT32', input: { datatype: 'UINT32', data: [2 ** 32] }, reason: 'BAD_DATA', error: /not a valid UINT32 value/ },
  { name: '2^64 for UINT64', input: { datatype: 'UINT64', data: [2n ** 64n] }, reason: 'BAD_DATA', error: /not a valid UINT64 value/ },
  { name: 'a negative bigint for UINT64', input: { datatype: 'UINT64', data: [-1n] }, reason: 'BAD_DATA', error: /not a valid UINT64 value/ },
  { name: '-129 for INT8', input: { datatype: 'INT8', data: [0, -129] }, reason: 'BAD_DATA', error: /data element 1 is not a valid INT8 value/ },
  { name: '32768 for INT16', input: { datatype: 'INT16', data: [32768] }, reason: 'BAD_DATA', error: /not a valid INT16 value/ },
  { name: '1.5 for INT32', input: { datatype: 'INT32', data: [0, 1, 2, 1.5] }, reason: 'BAD_DATA', error: /data element 3 is not a valid INT32 value/ },
  { name: '2^31 for INT32', input: { datatype: 'INT32', data: [2 ** 31] }, reason: 'BAD_DATA', error: /not a valid INT32 value/ },
  { name: '2^63 as a bigint for INT64', input: { datatype: 'INT64', data: [2n ** 63n] }, reason: 'BAD_DATA', error: /not a valid INT64 value/ },
  { name: '2^63 as a number for INT64', input: { datatype: 'INT64', data: [2 ** 63] }, reason: 'BAD_DATA', error: /not a valid INT64 value/ },
  { name: 'a fractional number for INT64', input: { datatype: 'INT64', data: [0.5] }, reason: 'BAD_DATA', error: /not a valid INT64 value/ },
  { name: 'a string for FP16', input: { datatype: 'FP16', data: ['1'] }, reason: 'BAD_DATA', error: /not a valid FP16 value/ },
  { name: 'a boolean for BF16', input: { datatype: 'BF16', data: [true] }, reason: 'BAD_DATA', error: /not a valid BF16 value/ },
  { name: 'a string for FP32, never echoed', input: { datatype: 'FP32', data: ['s3cret'] }, reason: 'BAD_DATA', error: /^\[request id: r\] input 'X': data element 0 is not a valid FP32 value$/ },
  { name: 'null for FP64', input: { datatype: 'FP64', data: [null] }, reason: 'BAD_DATA', error: /not a valid FP64 value/ },
  { name: 'a number for BYTES', input: { datatype: 'BYTES', data: ['a', 1] }, reason: 'BAD_DATA', error: /data element 1 is not a valid BYTES value/ },

  // Counts that differ from the shape's.
  { name: 'fewer values than the shape needs', input: { datatype: 'INT32', count: 16, data: new Array(15).fill(0) }, reason: 'DATA_SIZE_MISMATCH', error: /^\[request id: r\] input 'X' has fewer data elements than the 16 its shape needs$/ },
  { name: 'more values than the shape needs', input: { datatype: 'INT32', count: 2, data: [1, 2, 3] }, reason: 'DATA_SIZE_MISMATCH', error: /input 'X' has more data elements than the 2 its shape needs/ },
  { name: 'values for an empty shape', input: { datatype: 'FP32', count: 0, data: [1] }, reason: 'DATA_SIZE_MISMATCH', error: /more data elements than the 0/ },
  { name: 'fewer strings than the shape needs', input: { datatype: 'BYTES', count: 2, data: ['a'] }, reason: 'DATA_SIZE_MISMATCH', error: /fewer data elements than the 2/ },
];

const fromRaw: Case[] = [
  { name: 'numeric bytes of exactly the tensor\'s size', input: { datatype: 'INT32', count: 2, data: le(new Int32Array([7, -7])) }, output: le(new Int32Array([7, -7])) },
  { name: 'no bytes for an empty tensor', input: { datatype: 'FP64', count: 0, data: new Uint8Array(0) }, output: new Uint8Array(0) },
  { name: 'BYTES elements from their length prefixes', input: { datatype: 'BYTES', count: 3, data: encodeBytesElements(['ab', '', 'c']) }, output: ['ab', '', 'c'] },
  { name: 'numeric bytes short of the shape', input: { datatype: 'FP32', count: 16, data: new Uint8Array(60) }, reason: 'DATA_SIZE_MISMATCH', error: /^\[request id: r\] input byte size mismatch for input 'X': expected 64 bytes for its shape, got 60$/ },
  { name: 'numeric bytes past the shape', input: { datatype: 'INT32', count: 16, data: new Uint8Array(68) }, reason: 'DATA_SIZE_MISMATCH', error: /expected 64 bytes for its shape, got 68/ },
  { name: 'bytes that are not a whole element', input: { datatype: 'FP16', count: 1, data: new Uint8Array(1) }, reason: 'DATA_SIZE_MISMATCH', error: /expected 2 bytes for its shape, got 1/ },
  { name: 'a BYTES length prefix past the end', input: { datatype: 'BYTES', count: 1, data: new Uint8Array([9, 0, 0, 0, 65]) }, reason: 'DATA_SIZE_MISMATCH', error: /input 'X': BYTES element 0 has length 9, past the end of the data/ },
  { name: 'fewer BYTES elements than the shape', input: { datatype: 'BYTES', count: 2, data: new Uint8Array([1, 0, 0, 0, 65]) }, reason: 'DATA_SIZE_MISMATCH', error: /input 'X' holds fewer than the 2 BYTES elements its shape needs/ },
  { name: 'bytes beyond the BYTES elements', input: { datatype: 'BYTES', count: 1, data: new Uint8Array([1, 0, 0, 0, 65, 0]) }, reason: 'DATA_SIZE_MISMATCH', error: /input 'X' holds 1 bytes beyond the 1 BYTES elements its shape needs/ },
];

/** Tensor data as plain values to compare: a copy of numeric bytes, or the strings. */
function plain(data: TensorData): Uint8Array | readonly string[] {
  if (data.kind === 'strings') return data.strings;
  const bytes = new Uint8Array(data.kind === 'raw' ? data.bytes.byteLength : data.file.byteLength);
  copyNumeric(data, bytes);
  return bytes;
}

/** Raw contents of expected tensor data, as a front-end receives them. */
const asRaw = (output: Uint8Array | readonly string[]) => (output instanceof Uint8Array ? output : encodeBytesElements([...output]));

function table(title: string, cases: readonly Case[], convert: (c: Case) => TensorData): void {
  describe(title, () => {
    for (const c of cases) {
      const dt = datatypeFromWire(c.input.datatype)!;
      const count = c.input.count ?? c.input.data.length;
      if (c.error) {
        test(`refuses ${c.name}`, () => {
          assert.throws(() => convert(c), (err: unknown) => {
            assert.ok(err instanceof ServerError, String(err));
            assert.equal(err.reason, c.reason);
            assert.equal(err.httpStatus, 400);
            assert.match(err.message, c.error!);
            return true;
          });
        });
        continue;
      }
      test(`converts ${c.name}`, () => {
        const data = convert(c);
        assert.equal(data.kind, dt.wire === 'BYTES' ? 'strings' : 'raw');
        assert.deepEqual(plain(data), c.output);
        // Round trip: the bytes, sent again as raw contents, are the same tensor data.
        assert.deepEqual(plain(tensorFromRaw('X', dt, count, asRaw(c.output!), 'r')), c.output);
      });
    }
  });
}

table('tensorFromValues', fromValues, (c) => {
  const count = c.input.count ?? c.input.data.length;
  return tensorFromValues('X', datatypeFromWire(c.input.datatype)!, count, c.input.data, 'r');
});

table('tensorFromRaw', fromRaw, (c) => tensorFromRaw('X', datatypeFromWire(c.input.datatype)!, c.input.count!, c.input.data as Uint8Array, 'r'));

describe('tensor data for the scheduler', () => {
  test('keeps raw numeric bytes as a view into the body, not a copy', () => {
    const body = new Uint8Array([0xff, 1, 0, 0, 0, 2, 0, 0, 0]);
    const data = tensorFromRaw('X', datatypeFromWire('INT32')!, 2, body.subarray(1), 'r');
    assert.ok(data.kind === 'raw');
    assert.equal(data.bytes.buffer, body.buffer);
    assert.equal(data.bytes.byteOffset, 1);
  });

  test('converts values into one aligned buffer of their own, so the batcher copies bytes only', () => {
    const data = tensorFromValues('X', datatypeFromWire('FP64')!, 2, [1, 2], 'r');
    assert.ok(data.kind === 'raw');
    assert.equal(data.bytes.byteOffset, 0);
    assert.equal(data.bytes.buffer.byteLength, 16);
    assert.deepEqual([...new Float64Array(data.bytes.buffer)], [1, 2]);
  });

  test('copies raw bytes into a target at an unaligned offset', () => {
    const data = tensorFromValues('X', datatypeFromWire('INT32')!, 2, [1, -1], 'r');
    assert.ok(data.kind === 'raw');
    const slot = new Uint8Array(9).fill(0xee);
    copyNumeric(data, slot.subarray(1));
    assert.deepEqual([...slot], [0xee, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  });
});
