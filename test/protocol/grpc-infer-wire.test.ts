/**
 * The hand-written codec of the inference messages against protobufjs's own, on Triton's
 * grpc_service.proto: each message is encoded by both and decoded by both, and every pairing
 * must give the plain object protobufjs gives (toObject with the loader options of
 * grpc-proto.ts). Also: unknown fields and unpacked repeated scalars are read as protobuf
 * says, and malformed bytes are refused.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import {
  decodeModelInferRequest,
  decodeModelInferResponse,
  decodeModelStreamInferResponse,
  encodeModelInferRequest,
  encodeModelInferResponse,
  encodeModelStreamInferResponse,
} from '../../src/protocol/grpc-infer-wire.ts';

const protoDir = fileURLToPath(new URL('../../src/protocol/proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => protoDir + target.replace(/^.*\//, '');
root.loadSync('grpc_service.proto', { keepCase: true });
const kToObject: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

interface Codec {
  readonly type: protobuf.Type;
  encode(m: any): Buffer;
  decode(b: Buffer): unknown;
}
const codecs: Record<string, Codec> = {
  ModelInferRequest: { type: root.lookupType('inference.ModelInferRequest'), encode: encodeModelInferRequest, decode: decodeModelInferRequest },
  ModelInferResponse: { type: root.lookupType('inference.ModelInferResponse'), encode: encodeModelInferResponse, decode: decodeModelInferResponse },
  ModelStreamInferResponse: { type: root.lookupType('inference.ModelStreamInferResponse'), encode: encodeModelStreamInferResponse, decode: decodeModelStreamInferResponse },
};

const theirEncode = (c: Codec, m: object): Buffer => Buffer.from(c.type.encode(c.type.fromObject(m)).finish());
const theirDecode = (c: Codec, b: Buffer): unknown => c.type.toObject(c.type.decode(b), kToObject);

/** Checks every pairing of encoder and decoder on `m`. */
function roundTrip(c: Codec, m: object): void {
  const ours = c.encode(m);
  const theirs = theirEncode(c, m);
  const expected = theirDecode(c, theirs);
  assert.deepStrictEqual(theirDecode(c, ours), expected, 'protobufjs reads our bytes as it reads its own');
  assert.deepStrictEqual(c.decode(theirs), expected, 'we read protobufjs bytes as protobufjs does');
  assert.deepStrictEqual(c.decode(ours), expected, 'we read our own bytes as protobufjs does');
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** A parameter map with a value of every member, extremes included. */
const everyParameter = {
  yes: { bool_param: true },
  no: { bool_param: false },
  zero: { int64_param: 0 },
  negative: { int64_param: -5 },
  int64_min: { int64_param: '-9223372036854775808' },
  int64_max: { int64_param: '9223372036854775807' },
  past_2_53: { int64_param: '9007199254740993' },
  text: { string_param: 'naïve ✓ 日本' },
  empty: { string_param: '' },
  ratio: { double_param: 0.25 },
  negative_zero: { double_param: -0 },
  huge: { double_param: 1.7976931348623157e308 },
  uint64_max: { uint64_param: '18446744073709551615' },
  uint64_small: { uint64_param: 7 },
  [`long_${'k'.repeat(200)}`]: { string_param: 'v'.repeat(300) },
};

/** Typed contents in every field, with each type's extremes. */
const everyContents = {
  bool_contents: [true, false, true],
  int_contents: [0, -1, 2147483647, -2147483648, 127],
  int64_contents: ['0', '-1', '9223372036854775807', '-9223372036854775808', '4294967296', '9007199254740993'],
  uint_contents: [0, 1, 4294967295, 128, 16384],
  uint64_contents: ['0', '18446744073709551615', '4294967295', '4294967296'],
  fp32_contents: [0, -0, 1.5, -3.25, 3.4028234663852886e38, Infinity, -Infinity, NaN],
  fp64_contents: [0, 5e-324, -1.7976931348623157e308, Math.PI, NaN],
  bytes_contents: [utf8(''), utf8('a'), utf8('naïve ✓'), Buffer.alloc(300, 7)],
};

const requests: [string, object][] = [
  ['an empty request', {}],
  ['the header fields', { model_name: 'simple', model_version: '3', id: 'req-1' }],
  ['non-ASCII and long strings', { model_name: 'modèle_日本', id: 'x'.repeat(200), model_version: '🙂' }],
  ['request parameters of every kind', { model_name: 'm', parameters: everyParameter }],
  ['raw contents, empty and large ones included', {
    model_name: 'simple',
    inputs: [{ name: 'A', datatype: 'INT32', shape: [1, 16] }, { name: 'B', datatype: 'UINT8', shape: [0] }, { name: 'C', datatype: 'FP32', shape: [5000] }],
    raw_input_contents: [Buffer.alloc(64, 1), Buffer.alloc(0), Buffer.alloc(20000, 3)],
  }],
  ['shapes with large and negative dimensions', {
    inputs: [{ name: 'X', datatype: 'FP32', shape: [0, 1, 127, 128, 16384, '4294967296', '9007199254740993', -1] }],
  }],
  ['typed contents in every field', { inputs: [{ name: 'X', datatype: 'INT32', shape: [2], contents: everyContents }] }],
  ['an input with empty typed contents', { inputs: [{ name: 'X', datatype: 'FP16', shape: [0], contents: {} }] }],
  ['tensor and output parameters', {
    inputs: [{ name: 'X', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: { string_param: 'r' }, shared_memory_byte_size: { int64_param: 64 }, shared_memory_offset: { int64_param: 0 } } }],
    outputs: [{ name: 'Y' }, { name: 'Z', parameters: { binary_data: { bool_param: true }, classification: { int64_param: 3 } } }],
  }],
];

const responses: [string, object][] = [
  ['an empty response', {}],
  ['the answer of simple', {
    model_name: 'simple', model_version: '1', id: 'req-7',
    outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16] }, { name: 'OUTPUT1', datatype: 'INT32', shape: [1, 16] }],
    raw_output_contents: [Buffer.alloc(64, 2), Buffer.alloc(64, 9)],
  }],
  ['response parameters and outputs in shared memory', {
    parameters: everyParameter,
    outputs: [{ name: 'O', datatype: 'BYTES', shape: [1], parameters: { shared_memory_region: { string_param: 'out' }, shared_memory_byte_size: { int64_param: 64 } } }],
  }],
  ['typed output contents in every field', { outputs: [{ name: 'O', datatype: 'FP64', shape: ['18446744073709551615'], contents: everyContents }] }],
  ['a large raw output', { outputs: [{ name: 'O', datatype: 'UINT8', shape: [3000000] }], raw_output_contents: [Buffer.alloc(3000000, 5)] }],
];

const streamResponses: [string, object][] = [
  ['an empty stream response', {}],
  ['an error with only the id', { error_message: "in ensemble 'x': unexpected input ✗", infer_response: { id: 'r9' } }],
  ['a full answer', { infer_response: responses[1][1] }],
  ['an answer with an error message and typed contents', { error_message: 'e', infer_response: responses[3][1] }],
];

describe('gRPC inference messages against protobufjs', () => {
  for (const [name, m] of requests) test(`ModelInferRequest: ${name}`, () => roundTrip(codecs.ModelInferRequest, m));
  for (const [name, m] of responses) test(`ModelInferResponse: ${name}`, () => roundTrip(codecs.ModelInferResponse, m));
  for (const [name, m] of streamResponses) test(`ModelStreamInferResponse: ${name}`, () => roundTrip(codecs.ModelStreamInferResponse, m));

  test('decodes raw contents as views into the message, without a copy', () => {
    const bytes = encodeModelInferRequest({ raw_input_contents: [Buffer.alloc(64, 4)] });
    const raw = decodeModelInferRequest(bytes).raw_input_contents[0];
    assert.equal(raw.buffer, bytes.buffer);
    assert.deepEqual([...raw], new Array(64).fill(4));
  });

  test('sends a parameter with only its member set (no parameter_choice) as that member', () => {
    const m = decodeModelInferRequest(encodeModelInferRequest({ parameters: { p: { uint64_param: '12' }, q: { parameter_choice: 'double_param', double_param: 0 } } }));
    assert.deepEqual(m.parameters, { p: { uint64_param: '12', parameter_choice: 'uint64_param' }, q: { double_param: 0, parameter_choice: 'double_param' } });
  });
});

/** Hand-made wire bytes: keys, varints, length-delimited parts. */
const key = (field: number, wire: number) => Buffer.from([(field << 3) | wire]);
function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const ldelim = (field: number, body: Buffer) => Buffer.concat([key(field, 2), varint(BigInt(body.length)), body]);
/** One unknown field of every wire type, group included, under field numbers the schema does not use. */
const unknownFields = Buffer.concat([
  key(15, 0), varint(-3n),
  key(14, 1), Buffer.alloc(8, 0xff),
  ldelim(13, Buffer.from('unknown')),
  key(12, 5), Buffer.alloc(4, 1),
  key(11, 3), key(1, 0), varint(5n), ldelim(2, Buffer.from('in a group')), key(11, 4),
]);

describe('gRPC inference messages: unknown fields and encodings protobufjs does not write', () => {
  test('skips unknown fields of every wire type, at the top and inside tensors, parameters and contents', () => {
    const param = Buffer.concat([unknownFields, key(1, 0), varint(1n), unknownFields]);
    const contents = Buffer.concat([unknownFields, ldelim(2, Buffer.concat([varint(1n), varint(-2n)])), unknownFields]);
    const tensor = Buffer.concat([
      ldelim(1, Buffer.from('X')), unknownFields, ldelim(2, Buffer.from('INT32')),
      ldelim(3, Buffer.concat([varint(1n), varint(2n)])),
      ldelim(4, Buffer.concat([ldelim(1, Buffer.from('flag')), unknownFields, ldelim(2, param)])),
      ldelim(5, contents), unknownFields,
    ]);
    const bytes = Buffer.concat([unknownFields, ldelim(1, Buffer.from('simple')), unknownFields, ldelim(5, tensor), ldelim(6, Buffer.concat([ldelim(1, Buffer.from('Y')), unknownFields])), unknownFields]);
    const expected = theirDecode(codecs.ModelInferRequest, bytes);
    assert.deepStrictEqual(decodeModelInferRequest(bytes), expected);
    const m = decodeModelInferRequest(bytes);
    assert.deepEqual(m.inputs[0].shape, ['1', '2']);
    assert.deepEqual(m.inputs[0].contents!.int_contents, [1, -2]);
    assert.deepEqual(m.inputs[0].parameters, { flag: { bool_param: true, parameter_choice: 'bool_param' } });
    assert.deepEqual(m.outputs, [{ name: 'Y', parameters: {} }]);
  });

  test('reads repeated scalars written unpacked, one key per element, as packed ones', () => {
    const tensor = Buffer.concat([
      ldelim(1, Buffer.from('X')),
      key(3, 0), varint(2n), key(3, 0), varint(-1n),
      ldelim(5, Buffer.concat([
        key(1, 0), varint(1n), key(2, 0), varint(-7n), key(3, 0), varint(2n ** 63n - 1n), key(4, 0), varint(4294967295n), key(5, 0), varint(2n ** 64n - 1n),
        key(6, 5), Buffer.from(new Float32Array([1.5]).buffer), key(7, 1), Buffer.from(new Float64Array([-2.5]).buffer),
      ])),
    ]);
    const bytes = ldelim(5, tensor);
    assert.deepStrictEqual(decodeModelInferRequest(bytes), theirDecode(codecs.ModelInferRequest, bytes));
    const c = decodeModelInferRequest(bytes).inputs[0].contents!;
    assert.deepEqual([c.bool_contents, c.int_contents, c.int64_contents, c.uint_contents, c.uint64_contents, c.fp32_contents, c.fp64_contents],
      [[true], [-7], ['9223372036854775807'], [4294967295], ['18446744073709551615'], [1.5], [-2.5]]);
    assert.deepEqual(decodeModelInferRequest(bytes).inputs[0].shape, ['2', '-1']);
  });

  test('skips a known field number that comes with another wire type', () => {
    const bytes = Buffer.concat([key(1, 0), varint(9n), ldelim(3, Buffer.from('id')), key(7, 0), varint(1n)]);
    assert.deepEqual(decodeModelInferRequest(bytes), { model_name: '', model_version: '', id: 'id', parameters: {}, inputs: [], outputs: [], raw_input_contents: [] });
  });

  // The last flag: whether protobufjs refuses it too (it reads varints of any length).
  const malformed: [string, Buffer, boolean?][] = [
    ['a message cut inside raw contents', encodeModelInferRequest({ raw_input_contents: [Buffer.alloc(64)] }).subarray(0, 40)],
    ['a message cut inside a varint', Buffer.from([0x28, 0x80])],
    ['a length past the end', Buffer.concat([key(1, 2), varint(100n), Buffer.from('short')])],
    ['a sub-message longer than its parent', ldelim(5, Buffer.concat([key(1, 2), varint(50n), Buffer.from('X')]))],
    ['a fixed64 cut short', Buffer.concat([key(14, 1), Buffer.alloc(3)])],
    ['a varint of more than ten bytes', Buffer.concat([key(15, 0), Buffer.alloc(11, 0xff), Buffer.from([1])]), false],
    ['wire type 6', Buffer.from([(9 << 3) | 6])],
    ['field number 0', Buffer.concat([key(0, 0), varint(1n)])],
    ['a group that is never ended', Buffer.concat([key(11, 3), key(1, 0), varint(1n)])],
  ];
  for (const [name, bytes, theyRefuse = true] of malformed) {
    test(`refuses ${name}`, () => {
      assert.throws(() => decodeModelInferRequest(bytes), RangeError);
      if (theyRefuse) assert.throws(() => theirDecode(codecs.ModelInferRequest, bytes), 'protobufjs refuses it as well');
    });
  }
});
