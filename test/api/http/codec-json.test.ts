import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeInferRequest, materializeInputs, outputBytes, outputJsonData, parseJson, type DecodedInput } from '../../../src/api/http/codec-json.ts';
import type { TensorData } from '../../../src/inference/infer-request.ts';
import { copyNumeric } from '../../../src/inference/tensor-data.ts';
import { datatypeFromWire } from '../../../src/dtypes.ts';
import { ServerError } from '../../../src/errors.ts';
import type { InferOutput } from '../../../src/inference/infer-request.ts';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('parseJson', () => {
  test('accepts nesting up to the limit and refuses one level more', () => {
    assert.deepEqual(parseJson(nested(5), 5), [[[[[]]]]]);
    assert.throws(() => parseJson(nested(6), 5), { reason: 'JSON_TOO_DEEP', httpStatus: 400, message: /nested deeper than 5 levels/ });
    assert.throws(() => parseJson(`{"a":{"b":{"c":[1]}}}`, 3), { reason: 'JSON_TOO_DEEP' });
  });

  test('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: `${'['.repeat(50)}\\"{{{{"${'{'.repeat(50)}` });
    assert.deepEqual(parseJson(Buffer.from(text), 2), JSON.parse(text));
  });

  test('refuses malformed JSON without quoting it', () => {
    for (const text of ['{"secret-value": ', 'secret-value', '{secret-value}', '']) {
      assert.throws(() => parseJson(text, 100), (err: unknown) => {
        assert.ok(err instanceof ServerError);
        assert.equal(err.reason, 'MALFORMED_JSON');
        assert.match(err.message, /^failed to parse the request JSON buffer: invalid JSON/);
        assert.ok(!err.message.includes('secret'), err.message);
        return true;
      });
    }
  });
});

const input = (fields: Record<string, unknown> = {}) => ({ name: 'X', datatype: 'FP32', shape: [1], data: [1], ...fields });

describe('decodeInferRequest', () => {
  const refused: [string, unknown, RegExp, string?][] = [
    ['a body that is not an object', [1], /must be a JSON object/],
    ['an id that is a number', { id: 1, inputs: [] }, /'id' must be a string/],
    ['parameters that are an array', { parameters: [], inputs: [] }, /'parameters' must be an object/],
    ['no inputs array', {}, /'inputs' array/],
    ['an input that is not an object', { inputs: [3] }, /inputs\[0\] must be an object/],
    ['an input without a name', { inputs: [input({ name: 5 })] }, /inputs\[0\] must have a string 'name'/],
    ['an input without a datatype', { inputs: [input({ datatype: undefined })] }, /input 'X' must have a string 'datatype'/],
    ['an input without a shape', { inputs: [input({ shape: 'big' })] }, /input 'X' must have a 'shape' array/],
    ["an input's parameters that are not an object", { inputs: [input({ parameters: 1 })] }, /input 'X': 'parameters' must be an object/],
    ['a negative binary_data_size', { inputs: [input({ data: undefined, parameters: { binary_data_size: -1 } })] }, /binary_data_size must be a non-negative integer/],
    ['a fractional binary_data_size', { inputs: [input({ data: undefined, parameters: { binary_data_size: 1.5 } })] }, /binary_data_size must be a non-negative integer/],
    ['neither data nor binary_data_size', { inputs: [input({ data: undefined })] }, /has neither 'data' nor parameters.binary_data_size/],
    ['both data and binary_data_size', { inputs: [input({ parameters: { binary_data_size: 4 } })] }, /has both 'data' and parameters.binary_data_size/],
    ['a binary_data_output that is not a boolean', { inputs: [], parameters: { binary_data_output: 'yes' } }, /binary_data_output must be a boolean/],
    ['outputs that are not an array', { inputs: [], outputs: {} }, /'outputs' must be an array/],
    ['an output without a name', { inputs: [], outputs: [{}] }, /outputs\[0\] must be an object with a string 'name'/],
    ["an output's binary_data that is not a boolean", { inputs: [], outputs: [{ name: 'Y', parameters: { binary_data: 1 } }] }, /output 'Y': parameters.binary_data must be a boolean/],
    ['a shared memory input without its byte size', { inputs: [input({ data: undefined, parameters: { shared_memory_region: 'r' } })] }, /input 'X': parameters.shared_memory_byte_size must be given with shared_memory_region/],
    ['a shared memory input that also has data', { inputs: [input({ parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 } })] }, /input 'X' must set only one of 'data', parameters.binary_data_size and parameters.shared_memory_region/],
    ['a shared memory input that also has binary data', { inputs: [input({ data: undefined, parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4, binary_data_size: 4 } })] }, /must set only one of/],
    ['a shared memory offset without a region', { inputs: [input({ parameters: { shared_memory_offset: 4 } })] }, /shared_memory_offset and shared_memory_byte_size need parameters.shared_memory_region/],
    ['a shared memory region that is not a string', { inputs: [input({ data: undefined, parameters: { shared_memory_region: 5, shared_memory_byte_size: 4 } })] }, /shared_memory_region must be a non-empty string/],
    ['a negative shared memory offset', { inputs: [input({ data: undefined, parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4, shared_memory_offset: -4 } })] }, /shared_memory_offset must be a non-negative integer/],
    ['a fractional shared memory byte size', { inputs: [], outputs: [{ name: 'Y', parameters: { shared_memory_region: 'r', shared_memory_byte_size: 0.5 } }] }, /output 'Y': parameters.shared_memory_byte_size must be a non-negative integer/],
    ['an output both in shared memory and binary', { inputs: [], outputs: [{ name: 'Y', parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4, binary_data: true } }] }, /output 'Y' can't set both 'shared_memory_region' and 'binary_data'/],
    ['a classification count that is not a non-negative integer', { inputs: [], outputs: [{ name: 'Y', parameters: { classification: 2.5 } }] }, /output 'Y': Unable to set 'classification': expected a non-negative integer/],
    ['a negative classification count', { inputs: [], outputs: [{ name: 'Y', parameters: { classification: -1 } }] }, /Unable to set 'classification'/],
    ['a classification output in shared memory', { inputs: [], outputs: [{ name: 'Y', parameters: { classification: 2, shared_memory_region: 'r', shared_memory_byte_size: 4 } }] }, /^Output can't set both 'shared_memory_region' and 'classification'$/],
  ];
  for (const [title, body, message, reason = 'BAD_REQUEST'] of refused) {
    test(`refuses ${title}`, () => {
      assert.throws(() => decodeInferRequest(body), { reason, message });
    });
  }

  test('returns the header of a valid request, outputs null when none is named', () => {
    const decoded = decodeInferRequest({ id: 'r1', inputs: [input(), input({ name: 'B', data: undefined, parameters: { binary_data_size: 8 } })] });
    assert.equal(decoded.id, 'r1');
    assert.deepEqual(decoded.inputs, [
      { name: 'X', datatype: 'FP32', shape: [1], json: [1], binarySize: undefined },
      { name: 'B', datatype: 'FP32', shape: [1], json: undefined, binarySize: 8 },
    ]);
    assert.equal(decoded.outputs, null);
    assert.equal(decodeInferRequest({ inputs: [], outputs: [] }).outputs, null);
  });

  test('reads shared memory references of inputs and outputs, the offset 0 when left out', () => {
    const decoded = decodeInferRequest({
      inputs: [input({ data: undefined, parameters: { shared_memory_region: 'in', shared_memory_byte_size: 4 } }), input({ name: 'B' })],
      outputs: [{ name: 'Y', parameters: { shared_memory_region: 'out', shared_memory_offset: 8, shared_memory_byte_size: 16, binary_data: false } }, { name: 'Z' }],
    });
    assert.deepEqual(decoded.inputs[0].region, { region: 'in', offset: 0, byteSize: 4 });
    assert.equal(decoded.inputs[1].region, undefined);
    assert.deepEqual(decoded.outputs, [
      { name: 'Y', binary: false, region: { region: 'out', offset: 8, byteSize: 16 } },
      { name: 'Z', binary: false },
    ]);
  });

  test("takes each output's binary_data over the request's binary_data_output", () => {
    const decoded = decodeInferRequest({
      inputs: [],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'A' }, { name: 'B', parameters: { binary_data: false } }],
    });
    assert.deepEqual(decoded.outputs, [{ name: 'A', binary: true }, { name: 'B', binary: false }]);
    assert.deepEqual(decodeInferRequest({ inputs: [], outputs: [{ name: 'A' }] }).outputs, [{ name: 'A', binary: false }]);
  });
});

const decoded = (datatype: string, shape: number[], json: unknown, binarySize?: number): DecodedInput =>
  ({ name: 'T', datatype, shape, json: binarySize === undefined ? json : undefined, binarySize });

/** Each datatype with JSON values and the little-endian bytes they must become. */
const jsonCases: [string, unknown[], ArrayBufferView | string[]][] = [
  ['BOOL', [true, false], new Uint8Array([1, 0])],
  ['UINT8', [0, 255], new Uint8Array([0, 255])],
  ['UINT16', [1, 65535], new Uint16Array([1, 65535])],
  ['UINT32', [1, 4294967295], new Uint32Array([1, 4294967295])],
  ['UINT64', [0, 2 ** 53], new BigUint64Array([0n, 2n ** 53n])],
  ['INT8', [-128, 127], new Int8Array([-128, 127])],
  ['INT16', [-32768, 32767], new Int16Array([-32768, 32767])],
  ['INT32', [-2147483648, 2147483647], new Int32Array([-2147483648, 2147483647])],
  ['INT64', [-(2 ** 53), 2 ** 53], new BigInt64Array([-(2n ** 53n), 2n ** 53n])],
  ['FP16', [0.5, -2], new Uint16Array([0x3800, 0xc000])],
  ['FP32', [0.5, -1e-3], new Float32Array([0.5, -1e-3])],
  ['FP64', [0.1, -1e300], new Float64Array([0.1, -1e300])],
  ['BF16', [1, -0.5], new Uint16Array([0x3f80, 0xbf00])],
  ['BYTES', ['ab', ''], ['ab', '']],
];

const bytesOf = (v: ArrayBufferView | string[]) => (Array.isArray(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
/** The bytes a tensor's contents write (strings as they are). */
function dataBytes(d: TensorData, offset = 0): Buffer | string[] {
  if (d.kind === 'strings') return [...d.strings];
  assert.equal(d.kind, 'raw');
  const target = Buffer.alloc((d.kind === 'raw' ? d.bytes.byteLength : 0) + offset);
  copyNumeric(d, target.subarray(offset));
  return target.subarray(offset);
}

describe('materializeInputs', () => {
  for (const [datatype, values, expected] of jsonCases) {
    test(`writes JSON ${datatype} values as their little-endian bytes`, () => {
      const [data] = materializeInputs([decoded(datatype, [1, 2], values)], Buffer.alloc(0), undefined, 'm');
      assert.deepEqual(dataBytes(data), bytesOf(expected));
    });
  }

  for (const [datatype, values, expected] of jsonCases) {
    if (Array.isArray(expected)) continue;
    test(`writes JSON ${datatype} values into a target at an unaligned offset`, () => {
      const [data] = materializeInputs([decoded(datatype, [1, 2], values)], Buffer.alloc(0), undefined, 'm');
      assert.deepEqual(dataBytes(data, 1), bytesOf(expected));
    });
  }

  for (const [datatype, , expected] of jsonCases) {
    if (Array.isArray(expected)) continue;
    test(`writes binary ${datatype} bytes exactly as the body holds them`, () => {
      const body = Buffer.concat([Buffer.from([7]), bytesOf(expected) as Buffer]);
      const binary = body.subarray(1);
      const [data] = materializeInputs([decoded(datatype, [2], null, binary.length)], binary, undefined, 'm');
      assert.ok(data.kind === 'raw' && data.bytes.byteLength === binary.length);
      assert.equal(data.bytes.buffer, body.buffer, 'a view into the body, not a copy');
      assert.deepEqual(dataBytes(data), bytesOf(expected));
    });
  }

  test('takes each binary input from its own slice, in header order, next to JSON inputs', () => {
    const binary = Buffer.concat([Buffer.from(new Int32Array([1, 2]).buffer), Buffer.from(new Uint16Array([9]).buffer)]);
    const out = materializeInputs([
      decoded('INT32', [2], null, 8),
      decoded('FP32', [1], [2.5]),
      decoded('UINT16', [1], null, 2),
    ], binary, 'r', 'm');
    const values = <T>(d: TensorData, Ctor: new (b: ArrayBuffer) => T) => new Ctor(Uint8Array.from(dataBytes(d) as Buffer).buffer);
    assert.deepEqual([...values(out[0], Int32Array)], [1, 2]);
    assert.deepEqual([...values(out[1], Float32Array)], [2.5]);
    assert.deepEqual([...values(out[2], Uint16Array)], [9]);
  });

  const refused: [string, DecodedInput[], Buffer, RegExp, string][] = [
    ['too few JSON elements', [decoded('INT32', [3], [1, 2])], Buffer.alloc(0), /has fewer data elements than the 3/, 'DATA_SIZE_MISMATCH'],
    ['too many nested JSON elements', [decoded('INT32', [2], [[1, 2], [3]])], Buffer.alloc(0), /has more data elements than the 2/, 'DATA_SIZE_MISMATCH'],
    ['a value out of range', [decoded('INT8', [1], [128])], Buffer.alloc(0), /data element 0 is not a valid INT8 value/, 'BAD_DATA'],
    ['a number for BOOL', [decoded('BOOL', [1], [1])], Buffer.alloc(0), /not a valid BOOL value/, 'BAD_DATA'],
    ['a number for BYTES', [decoded('BYTES', [1], [1])], Buffer.alloc(0), /not a valid BYTES value/, 'BAD_DATA'],
    ['binary bytes not matching the shape', [decoded('FP32', [2], null, 7)], Buffer.alloc(7), /expected 8 bytes for its shape, got 7/, 'DATA_SIZE_MISMATCH'],
    ['binary_data_size past the end', [decoded('FP32', [2], null, 8)], Buffer.alloc(4), /binary_data_size 8 goes past the end of the body's 4 binary bytes/, 'BINARY_SIZE_MISMATCH'],
    ['binary bytes left over', [decoded('FP32', [1], null, 4)], Buffer.alloc(6), /2 binary bytes beyond the inputs' binary_data_size total of 4/, 'BINARY_SIZE_MISMATCH'],
    ['a negative dim', [decoded('FP32', [-1], [])], Buffer.alloc(0), /for model 'm'.*non-negative integer dims/, 'WRONG_SHAPE'],
  ];
  for (const [title, inputs, binary, message, reason] of refused) {
    test(`refuses ${title}`, () => {
      assert.throws(() => materializeInputs(inputs, binary, undefined, 'm'), { reason, message });
    });
  }
});

const output = (datatype: string, data: ArrayBufferView | string[]): InferOutput => ({
  name: 'O',
  datatype: datatypeFromWire(datatype)!,
  shape: [Array.isArray(data) ? data.length : (data as unknown as ArrayLike<unknown>).length],
  data: Array.isArray(data) ? data : (data.buffer as ArrayBuffer),
});

describe('outputJsonData and outputBytes', () => {
  test('write 64-bit integers beyond 2^53 exactly', () => {
    assert.equal(outputJsonData(output('INT64', new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n]))),
      '[-9223372036854775808,9223372036854775807,9007199254740993]');
    assert.equal(outputJsonData(output('UINT64', new BigUint64Array([2n ** 64n - 1n, 0n]))), '[18446744073709551615,0]');
  });

  test('write booleans, 16-bit floats and strings as JSON values', () => {
    assert.equal(outputJsonData(output('BOOL', new Uint8Array([1, 0, 2]))), '[true,false,true]');
    assert.equal(outputJsonData(output('FP16', new Uint16Array([0x3800, 0xc000, 0x6400]))), '[0.5,-2,1024]');
    assert.equal(outputJsonData(output('BF16', new Uint16Array([0x3f80]))), '[1]');
    assert.equal(outputJsonData(output('INT8', new Int8Array([-5, 5]))), '[-5,5]');
    assert.deepEqual(JSON.parse(outputJsonData(output('BYTES', ['a"b', 'ü\n']))), ['a"b', 'ü\n']);
  });

  test('give the raw bytes of a numeric output and length-prefixed BYTES', () => {
    assert.deepEqual(outputBytes(output('INT16', new Int16Array([1, -1]))), Buffer.from([1, 0, 0xff, 0xff]));
    assert.deepEqual(outputBytes(output('BYTES', ['ab', ''])), Buffer.from([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0]));
  });
});
