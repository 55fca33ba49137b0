/**
 * The gRPC tensor codec without a server: the request header as checkRequest sees it, the
 * parameters both ways, and contents turned into tensor data (raw bytes kept as a view until
 * written once; typed values written exactly, 64-bit integers included).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeGrpcInferRequest, encodeGrpcInferResponse, materializeGrpcInputs } from '../../../src/api/grpc/codec-protobuf.ts';
import { parametersFromMessage, parametersToMessage } from '../../../src/protocol/grpc-messages.ts';
import { encodeGrpcInferRequest } from '../../../src/client/index.ts';
import { datatypeFromWire } from '../../../src/dtypes.ts';
import type { TensorData } from '../../../src/inference/infer-request.ts';

/** A copy of numeric contents' bytes, in a buffer of their own (so typed views start at 0). */
function written(data: TensorData): Uint8Array {
  assert.equal(data.kind, 'raw');
  return Uint8Array.from((data as Extract<TensorData, { kind: 'raw' }>).bytes);
}

describe('gRPC request header', () => {
  test('reads shapes as numbers, an empty id as none, and no outputs as all of them', () => {
    const msg = encodeGrpcInferRequest('m', [{ name: 'X', datatype: 'INT64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }], {});
    msg.inputs[0].shape = ['2', '3'];
    const header = decodeGrpcInferRequest(msg);
    assert.deepEqual(header.inputs, [{ name: 'X', datatype: 'INT64', shape: [2, 3], dataBytes: 48 }]);
    assert.equal(header.id, undefined);
    assert.equal(header.outputs, null);
    assert.deepEqual(decodeGrpcInferRequest({ ...msg, id: 'r', outputs: [{ name: 'Y', parameters: {} }] }).outputs, [{ name: 'Y', binary: false }]);
  });

  test('passes request parameters through as plain values', () => {
    const msg = encodeGrpcInferRequest('m', [], { parameters: { priority: 2, label: 'x', flag: false, ratio: 0.25, big: 2n ** 60n } });
    assert.deepEqual(decodeGrpcInferRequest(msg).parameters, { priority: 2, label: 'x', flag: false, ratio: 0.25, big: 2n ** 60n });
  });
});

describe('gRPC parameters', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['booleans', { a: true, b: false }],
    ['strings', { s: 'text', empty: '' }],
    ['integers', { zero: 0, negative: -7, safe: 2 ** 53 - 1 }],
    ['doubles', { d: 1.5, tiny: 5e-324 }],
    ['64-bit integers past 2^53', { big: 2n ** 62n, negative: -(2n ** 63n), unsigned: 2n ** 64n - 1n }],
  ];
  for (const [name, values] of cases) {
    test(`round-trips ${name}`, () => {
      // As the loader hands them over: 64-bit integers as decimal strings.
      const wire = Object.fromEntries(Object.entries(parametersToMessage(values)).map(([k, p]) => {
        const choice = Object.keys(p)[0] as keyof typeof p;
        const value = choice === 'int64_param' || choice === 'uint64_param' ? String(p[choice]) : p[choice];
        return [k, { parameter_choice: choice, [choice]: value }];
      }));
      assert.deepEqual(parametersFromMessage(wire as never), values);
    });
  }

  test('refuses a value of another kind, naming the parameter', () => {
    assert.throws(() => parametersToMessage({ nested: { a: 1 } }), /parameter 'nested' must be a boolean, string, number or bigint/);
  });
});

describe('gRPC tensor contents', () => {
  test('keeps raw contents as a view and writes them once, byte for byte', () => {
    const msg = encodeGrpcInferRequest('m', [{ name: 'X', datatype: 'INT32', shape: [1, 4], data: [1, -2, 3, 2 ** 31 - 1] }], {});
    const [data] = materializeGrpcInputs(msg, 'm');
    assert.equal(data.kind === 'raw' && data.bytes.byteLength, 16);
    assert.equal(data.kind === 'raw' && data.bytes.buffer, msg.raw_input_contents![0].buffer, 'a view into the message, not a copy');
    assert.deepEqual(Array.from(new Int32Array(written(data).buffer)), [1, -2, 3, 2 ** 31 - 1]);
  });

  test('writes typed 64-bit values exactly', () => {
    const values = [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n];
    const msg = encodeGrpcInferRequest('m', [{ name: 'X', datatype: 'INT64', shape: [3], data: values }], { contents: 'typed' });
    assert.deepEqual(msg.inputs[0].contents!.int64_contents, values.map(String));
    const [data] = materializeGrpcInputs(msg, 'm');
    assert.deepEqual(Array.from(new BigInt64Array(written(data).buffer)), values);
  });

  test('decodes typed BYTES into strings and narrows int_contents to INT8', () => {
    const msg = encodeGrpcInferRequest('m', [
      { name: 'S', datatype: 'BYTES', shape: [2], data: ['a', 'βγ'] },
      { name: 'B', datatype: 'INT8', shape: [3], data: [-128, 0, 127] },
    ], { contents: 'typed' });
    const [strings, int8] = materializeGrpcInputs(msg, 'm');
    assert.deepEqual(strings, { kind: 'strings', strings: ['a', 'βγ'] });
    assert.deepEqual(Array.from(new Int8Array(written(int8).buffer)), [-128, 0, 127]);
  });
});

describe('gRPC response', () => {
  test('answers each output as raw contents, in order, with the model version as text', () => {
    const int32 = datatypeFromWire('INT32')!;
    const bytes = datatypeFromWire('BYTES')!;
    const msg = encodeGrpcInferResponse({
      id: 'r1',
      modelName: 'm',
      modelVersion: 3,
      outputs: [
        { name: 'A', datatype: int32, shape: [1, 2], data: new Int32Array([5, 6]).buffer },
        { name: 'S', datatype: bytes, shape: [1], data: ['hi'] },
      ],
    });
    assert.equal(msg.model_version, '3');
    assert.equal(msg.id, 'r1');
    assert.deepEqual(msg.outputs.map((o) => [o.name, o.datatype, o.shape]), [['A', 'INT32', [1, 2]], ['S', 'BYTES', [1]]]);
    assert.deepEqual(Array.from(new Int32Array(new Uint8Array(msg.raw_output_contents[0]).slice().buffer)), [5, 6]);
    assert.deepEqual(Array.from(msg.raw_output_contents[1]), [2, 0, 0, 0, 104, 105]);
  });
});
