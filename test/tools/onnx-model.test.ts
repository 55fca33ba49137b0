import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { readModelIo } from '../../src/model-config/onnx-model.ts';
import {
  attr,
  onnxTypeCode,
  type AttributeValue,
  writeModel,
  type OnnxElemType,
  type TensorSpec,
} from '../../tools/onnx-writer.ts';
import {
  ALL_TYPES,
  DEFAULT_EXAMPLES_DIR,
  DEFAULT_FIXTURES_DIR,
  DEFAULT_REPO_DIR,
  buildModels,
  garbageBytes,
  generateModels,
} from '../../tools/generate-models.ts';

const quiet = { logSeverityLevel: 3 as const };
const scratch = mkdtempSync(join(tmpdir(), 'nereid-onnx-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const repoModel = (name: string, version = 1) => readFileSync(join(DEFAULT_REPO_DIR, name, String(version), 'model.onnx'));
const fixtureModel = (name: string, version = 1) =>
  readFileSync(join(DEFAULT_FIXTURES_DIR, name, String(version), 'model.onnx'));

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

describe('ONNX writer and reader', () => {
  test('a written model reads back with the same inputs, outputs, opset and IR version', () => {
    const bytes = writeModel({
      inputs: [
        { name: 'A', elemType: 'FLOAT', shape: ['batch', 3, 'width'] },
        { name: 'B', elemType: 'STRING', shape: [] },
        { name: 'C', elemType: 'UINT64', shape: [7] },
      ],
      outputs: [
        { name: 'X', elemType: 'FLOAT', shape: ['batch', 3, 'width'] },
        { name: 'Y', elemType: 'STRING', shape: [] },
        { name: 'Z', elemType: 'UINT64', shape: [7] },
      ],
      nodes: [
        { opType: 'Identity', inputs: ['A'], outputs: ['X'] },
        { opType: 'Identity', inputs: ['B'], outputs: ['Y'] },
        { opType: 'Identity', inputs: ['C'], outputs: ['Z'] },
      ],
      opset: 13,
      irVersion: 7,
    });
    assert.deepEqual(readModelIo(bytes), {
      inputs: [
        { name: 'A', elemType: 'FLOAT', shape: ['batch', 3, 'width'] },
        { name: 'B', elemType: 'STRING', shape: [] },
        { name: 'C', elemType: 'UINT64', shape: [7] },
      ],
      outputs: [
        { name: 'X', elemType: 'FLOAT', shape: ['batch', 3, 'width'] },
        { name: 'Y', elemType: 'STRING', shape: [] },
        { name: 'Z', elemType: 'UINT64', shape: [7] },
      ],
      overridableInitializers: [],
      opset: 13,
      irVersion: 7,
    });
  });

  test('every element type name survives a round trip', () => {
    const types = Object.keys({
      FLOAT: 1, UINT8: 1, INT8: 1, UINT16: 1, INT16: 1, INT32: 1, INT64: 1, STRING: 1,
      BOOL: 1, FLOAT16: 1, DOUBLE: 1, UINT32: 1, UINT64: 1, BFLOAT16: 1,
    }) as OnnxElemType[];
    const bytes = writeModel({
      inputs: types.map((t) => ({ name: `in_${t}`, elemType: t, shape: ['n'] })),
      outputs: types.map((t) => ({ name: `out_${t}`, elemType: t, shape: ['n'] })),
      nodes: types.map((t) => ({ opType: 'Identity', inputs: [`in_${t}`], outputs: [`out_${t}`] })),
    });
    const io = readModelIo(bytes);
    assert.deepEqual(io.inputs.map((i) => i.elemType), types);
    assert.deepEqual(io.outputs.map((o) => o.elemType), types);
    assert.equal(io.opset, 17);
    assert.equal(io.irVersion, 8);
  });

  test('graph inputs that are also initializers are not reported as inputs', () => {
    const bytes = writeModel({
      inputs: [
        { name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', 2] },
        { name: 'BIAS', elemType: 'FLOAT', shape: [2] },
      ],
      outputs: [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', 2] }],
      nodes: [
        { opType: 'Add', inputs: ['INPUT0', 'BIAS'], outputs: ['t'] },
        { opType: 'Mul', inputs: ['t', 'SCALE'], outputs: ['OUTPUT0'] },
      ],
      initializers: [
        { name: 'BIAS', elemType: 'FLOAT', dims: [2], data: [1, 2] },
        { name: 'SCALE', elemType: 'FLOAT', dims: [], data: [3] },
      ],
    });
    const io = readModelIo(bytes);
    assert.deepEqual(io.inputs, [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', 2] }]);
    assert.deepEqual(io.overridableInitializers, [{ name: 'BIAS', elemType: 'FLOAT', shape: [2] }]);
  });

  test('unknown rank, unknown dims and non-tensor types are read as documented', () => {
    const root = new protobuf.Root().loadSync(fileURLToPath(new URL('../../src/model-config/onnx.proto', import.meta.url)), {
      keepCase: true,
    });
    const Model = root.lookupType('onnx.ModelProto');
    const bytes = Model.encode(
      Model.fromObject({
        ir_version: 9,
        opset_import: [{ domain: 'com.microsoft', version: 1 }, { domain: 'ai.onnx', version: 19 }],
        graph: {
          name: 'g',
          input: [
            { name: 'no_shape', type: { tensor_type: { elem_type: 1 } } },
            { name: 'odd_dims', type: { tensor_type: { elem_type: 17, shape: { dim: [{}, { dim_param: '' }, { dim_value: 0 }, { dim_param: 'n' }] } } } },
            { name: 'seq', type: { sequence_type: { elem_type: { tensor_type: { elem_type: 1 } } } } },
            { name: 'untyped' },
          ],
          output: [{ name: 'out', type: { tensor_type: { elem_type: 99, shape: { dim: [] } } } }],
        },
      }),
    ).finish();
    assert.deepEqual(readModelIo(bytes), {
      inputs: [
        { name: 'no_shape', elemType: 'FLOAT', shape: null },
        { name: 'odd_dims', elemType: 'FLOAT8E4M3FN', shape: [null, null, 0, 'n'] },
        { name: 'seq', elemType: 'SEQUENCE', shape: null },
        { name: 'untyped', elemType: 'UNDEFINED', shape: null },
      ],
      outputs: [{ name: 'out', elemType: 'UNKNOWN_99', shape: [] }],
      overridableInitializers: [],
      opset: 19,
      irVersion: 9,
    });
  });

  test('garbage bytes and models without a graph are rejected with a clear error', () => {
    const invalid = { message: /^not a valid ONNX model: / };
    assert.throws(() => readModelIo(garbageBytes()), invalid);
    assert.throws(() => readModelIo(new TextEncoder().encode('hello, I am not a model')), invalid);
    assert.throws(() => readModelIo(new Uint8Array(0)), invalid);
    assert.throws(() => readModelIo(new Uint8Array([0x08, 0x08])), { message: 'not a valid ONNX model: it has no graph' });
    assert.throws(() => readModelIo(fixtureModel('corrupt')), invalid);
  });

  test('the same spec always gives the same bytes', () => {
    const spec = () => ({
      inputs: [{ name: 'x', elemType: 'FLOAT' as const, shape: ['n'] }],
      outputs: [{ name: 'y', elemType: 'FLOAT' as const, shape: ['n'] }],
      nodes: [{ opType: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }],
      initializers: [{ name: 'k', elemType: 'FLOAT' as const, dims: [], data: [0.5] }],
    });
    assert.deepEqual(writeModel(spec()), writeModel(spec()));
  });

  test('writeModel rejects data that does not match its dims or type', () => {
    const base = {
      inputs: [{ name: 'x', elemType: 'INT8' as const, shape: [2] }],
      outputs: [{ name: 'y', elemType: 'INT8' as const, shape: [2] }],
      nodes: [{ opType: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
    };
    assert.throws(() => writeModel({ ...base, initializers: [{ name: 'k', elemType: 'INT8', dims: [2], data: [1] }] }), /need 2 elements/);
    assert.throws(() => writeModel({ ...base, initializers: [{ name: 'k', elemType: 'INT8', dims: [2], data: [1, 300] }] }), /not a INT8 value/);
    assert.throws(
      () => writeModel({ ...base, nodes: [{ opType: 'Foo', inputs: [], outputs: ['y'], attributes: { empty: [] } }] }),
      /empty list/,
    );
  });
});

describe('ONNX models written by Nereid run in onnxruntime', () => {
  test('initializers of every type are stored so that onnxruntime reads the same values', async () => {
    const cases: { t: OnnxElemType; data: TensorSpec['data']; ort: string; expect: unknown[] }[] = [
      { t: 'FLOAT', data: [1.5, -2.25, 0.1], ort: 'float32', expect: [1.5, -2.25, Math.fround(0.1)] },
      { t: 'DOUBLE', data: [Math.PI, -1e300, 0], ort: 'float64', expect: [Math.PI, -1e300, 0] },
      { t: 'UINT8', data: [0, 128, 255], ort: 'uint8', expect: [0, 128, 255] },
      { t: 'INT8', data: [-128, 0, 127], ort: 'int8', expect: [-128, 0, 127] },
      { t: 'UINT16', data: [0, 1000, 65535], ort: 'uint16', expect: [0, 1000, 65535] },
      { t: 'INT16', data: [-32768, 5, 32767], ort: 'int16', expect: [-32768, 5, 32767] },
      { t: 'UINT32', data: [0, 7, 4294967295], ort: 'uint32', expect: [0, 7, 4294967295] },
      { t: 'INT32', data: [-2147483648, 9, 2147483647], ort: 'int32', expect: [-2147483648, 9, 2147483647] },
      { t: 'INT64', data: [-(2n ** 63n), 42, 2n ** 63n - 1n], ort: 'int64', expect: [-(2n ** 63n), 42n, 2n ** 63n - 1n] },
      { t: 'UINT64', data: [0, 2n ** 64n - 1n, 12345678901234567890n], ort: 'uint64', expect: [0n, 2n ** 64n - 1n, 12345678901234567890n] },
      { t: 'BOOL', data: [true, false, 1], ort: 'bool', expect: [1, 0, 1] },
      // 1, -2, 65504 (max half), 0.1 rounds to 0x2e66
      { t: 'FLOAT16', data: [1, -2, 65504], ort: 'float16', expect: [0x3c00, 0xc000, 0x7bff] },
      { t: 'STRING', data: ['', 'héllo', 'a b'], ort: 'string', expect: ['', 'héllo', 'a b'] },
    ];
    const bytes = writeModel({
      inputs: [],
      outputs: cases.map((c) => ({ name: `out_${c.t}`, elemType: c.t, shape: [3] })),
      nodes: cases.map((c) => ({ opType: 'Identity', inputs: [`k_${c.t}`], outputs: [`out_${c.t}`] })),
      initializers: cases.map((c) => ({ name: `k_${c.t}`, elemType: c.t, dims: [3], data: c.data })),
    });
    const session = await ort.InferenceSession.create(bytes, quiet);
    const results = await session.run({});
    for (const c of cases) {
      const out = results[`out_${c.t}`];
      assert.equal(out.type, c.ort, c.t);
      assert.deepEqual(out.dims, [3], c.t);
      assert.deepEqual(Array.from(out.data as ArrayLike<unknown>), c.expect, c.t);
    }
  });

  test('FLOAT16 numbers are rounded to nearest even and a Uint16Array is taken as bit patterns', async () => {
    const bytes = writeModel({
      inputs: [],
      outputs: [
        { name: 'a', elemType: 'FLOAT16', shape: [5] },
        { name: 'b', elemType: 'FLOAT16', shape: [2] },
      ],
      nodes: [
        { opType: 'Identity', inputs: ['ka'], outputs: ['a'] },
        { opType: 'Identity', inputs: ['kb'], outputs: ['b'] },
      ],
      initializers: [
        { name: 'ka', elemType: 'FLOAT16', dims: [5], data: [0.1, 1e-7, 1e6, -0, 6.1e-5] },
        { name: 'kb', elemType: 'FLOAT16', dims: [2], data: new Uint16Array([0x7e00, 0x0001]) },
      ],
    });
    const session = await ort.InferenceSession.create(bytes, quiet);
    const r = await session.run({});
    assert.deepEqual(Array.from(r.a.data as Uint16Array), [0x2e66, 0x0002, 0x7c00, 0x8000, 0x03ff]);
    assert.deepEqual(Array.from(r.b.data as Uint16Array), [0x7e00, 0x0001]);
  });

  test('attributes of every supported kind reach onnxruntime with the right type', async () => {
    const constant = (out: string, attributes: Record<string, AttributeValue>) => ({
      opType: 'Constant', inputs: [], outputs: [out], attributes,
    });
    const bytes = writeModel({
      inputs: [{ name: 'x', elemType: 'FLOAT', shape: [2] }],
      outputs: [
        { name: 'c_tensor', elemType: 'INT64', shape: [2, 2] },
        { name: 'c_float', elemType: 'FLOAT', shape: [] },
        { name: 'c_int', elemType: 'INT64', shape: [] },
        { name: 'c_string', elemType: 'STRING', shape: [] },
        { name: 'c_floats', elemType: 'FLOAT', shape: [3] },
        { name: 'c_floats2', elemType: 'FLOAT', shape: [2] },
        { name: 'c_ints', elemType: 'INT64', shape: [3] },
        { name: 'c_strings', elemType: 'STRING', shape: [2] },
        { name: 'y', elemType: 'INT32', shape: [2] },
        { name: 'z', elemType: 'FLOAT', shape: [2] },
      ],
      nodes: [
        constant('c_tensor', { value: { elemType: 'INT64', dims: [2, 2], data: [1, -2, 3n, 2n ** 40n] } }),
        constant('c_float', { value_float: attr.float(2) }),
        constant('c_int', { value_int: 7 }),
        constant('c_string', { value_string: 'text' }),
        constant('c_floats', { value_floats: [0.5, 1, 2] }),
        constant('c_floats2', { value_floats: new Float32Array([4, 5]) }),
        constant('c_ints', { value_ints: [1, -1, 2n ** 50n] }),
        constant('c_strings', { value_strings: ['p', 'q'] }),
        { opType: 'Cast', inputs: ['x'], outputs: ['y'], attributes: { to: onnxTypeCode('INT32') } },
        // alpha is a FLOAT attribute: a non-integer number is inferred as FLOAT.
        { opType: 'LeakyRelu', inputs: ['x'], outputs: ['z'], attributes: { alpha: 0.5 } },
      ],
    });
    const session = await ort.InferenceSession.create(bytes, quiet);
    const r = await session.run({ x: new ort.Tensor('float32', new Float32Array([-4, 3.7]), [2]) });
    assert.deepEqual(Array.from(r.c_tensor.data as BigInt64Array), [1n, -2n, 3n, 2n ** 40n]);
    assert.deepEqual(r.c_tensor.dims, [2, 2]);
    assert.deepEqual(Array.from(r.c_float.data as Float32Array), [2]);
    assert.deepEqual(Array.from(r.c_int.data as BigInt64Array), [7n]);
    assert.deepEqual(r.c_string.data, ['text']);
    assert.deepEqual(Array.from(r.c_floats.data as Float32Array), [0.5, 1, 2]);
    assert.deepEqual(Array.from(r.c_floats2.data as Float32Array), [4, 5]);
    assert.deepEqual(Array.from(r.c_ints.data as BigInt64Array), [1n, -1n, 2n ** 50n]);
    assert.deepEqual(r.c_strings.data, ['p', 'q']);
    assert.deepEqual(Array.from(r.y.data as Int32Array), [-4, 3]);
    assert.deepEqual(Array.from(r.z.data as Float32Array), [-2, 3.700000047683716]);
  });

  test('a model saved by onnxruntime itself is read correctly', async () => {
    const saved = join(scratch, 'ort-saved.onnx');
    await ort.InferenceSession.create(repoModel('simple'), { ...quiet, optimizedModelFilePath: saved });
    const io = readModelIo(readFileSync(saved));
    assert.deepEqual(io.inputs, readModelIo(repoModel('simple')).inputs);
    assert.deepEqual(io.outputs, readModelIo(repoModel('simple')).outputs);
    assert.equal(io.opset, 17);
  });
});

describe('generated models', () => {
  test('the committed models are exactly what the generator writes, and every file is small', () => {
    const repo = join(scratch, 'repo');
    const fixtures = join(scratch, 'fixtures');
    const examples = join(scratch, 'examples');
    const first = generateModels({ repo, fixtures, examples }).map((p) => relative(scratch, p));
    const again = join(scratch, 'again');
    generateModels({ repo: join(again, 'repo'), fixtures: join(again, 'fixtures'), examples: join(again, 'examples') });
    for (const [generated, committed] of [
      [repo, DEFAULT_REPO_DIR],
      [fixtures, DEFAULT_FIXTURES_DIR],
      [examples, DEFAULT_EXAMPLES_DIR],
    ]) {
      for (const file of listFiles(generated)) {
        const bytes = readFileSync(join(generated, file));
        assert.ok(bytes.length < 10 * 1024, `${file} is ${bytes.length} bytes`);
        assert.deepEqual(bytes, readFileSync(join(committed, file)), `${file} differs from the committed copy; run npm run models`);
        assert.deepEqual(bytes, readFileSync(join(again, relative(scratch, generated), file)), `${file} is not deterministic`);
      }
    }
    assert.equal(first.length, buildModels().reduce((n, m) => n + m.files.length, 0));
  });

  test('the generated model directories have the expected files', () => {
    const layout = Object.fromEntries(buildModels().map((m) => [`${m.target}/${m.name}`, m.files.map((f) => f.path).sort()]));
    assert.deepEqual(layout, {
      'repo/simple': ['1/model.onnx', 'config.pbtxt'],
      'repo/simple_identity': ['1/model.js', 'config.pbtxt'],
      'fixtures/string_identity': ['1/model.onnx', 'config.pbtxt'],
      'repo/simple_string': ['1/model.onnx', 'config.pbtxt'],
      'fixtures/all_types': ['1/model.onnx', 'config.pbtxt'],
      'fixtures/no_config': ['1/model.onnx'],
      'fixtures/whole_shape': ['1/model.onnx', 'config.pbtxt'],
      'fixtures/versioned': ['1/model.onnx', '2/model.onnx', '3/model.onnx', 'config.pbtxt'],
      'fixtures/bad_config': ['1/model.onnx', 'config.pbtxt'],
      'fixtures/corrupt': ['1/model.onnx', 'config.pbtxt'],
      'fixtures/slow': ['1/model.onnx', 'config.pbtxt'],
      'fixtures/sequence_accumulate': ['1/model.onnx', 'config.pbtxt'],
      'examples/densenet_onnx': ['1/model.onnx', 'colour_labels.txt', 'config.pbtxt'],
      'examples/repeat_int32': ['1/model.js', 'config.pbtxt'],
      'examples/simple_sequence': ['1/model.onnx', 'config.pbtxt'],
      'examples/simple_int8': ['1/model.onnx', 'config.pbtxt'],
      'examples/simple_dyna_sequence': ['1/model.onnx', 'config.pbtxt'],
      'examples/simple_string_dyna_sequence': ['1/model.onnx', 'config.pbtxt'],
    });
  });

  test('simple adds and subtracts a batch of three', async () => {
    const io = readModelIo(repoModel('simple'));
    assert.deepEqual(io.inputs.map((i) => [i.name, i.elemType, i.shape]), [
      ['INPUT0', 'INT32', ['batch', 16]],
      ['INPUT1', 'INT32', ['batch', 16]],
    ]);
    const session = await ort.InferenceSession.create(repoModel('simple'), quiet);
    const a = Int32Array.from({ length: 48 }, (_, i) => i);
    const b = Int32Array.from({ length: 48 }, (_, i) => 100 - 3 * i);
    const r = await session.run({
      INPUT0: new ort.Tensor('int32', a, [3, 16]),
      INPUT1: new ort.Tensor('int32', b, [3, 16]),
    });
    assert.deepEqual(r.OUTPUT0.dims, [3, 16]);
    assert.deepEqual(Array.from(r.OUTPUT0.data as Int32Array), Array.from(a, (x, i) => x + b[i]));
    assert.deepEqual(Array.from(r.OUTPUT1.data as Int32Array), Array.from(a, (x, i) => x - b[i]));
  });

  test('string_identity returns its strings unchanged', async () => {
    const session = await ort.InferenceSession.create(fixtureModel('string_identity'), quiet);
    const strings = ['hello', '', 'ünïcödé', ' spaced ', 'x'.repeat(300), '42'];
    const r = await session.run({ INPUT0: new ort.Tensor('string', strings, [2, 3]) });
    assert.equal(r.OUTPUT0.type, 'string');
    assert.deepEqual(r.OUTPUT0.dims, [2, 3]);
    assert.deepEqual(r.OUTPUT0.data, strings);
  });

  test('onnxruntime-node cuts a string at its first NUL character', async () => {
    // A limitation of onnxruntime-node's string tensors (C strings), pinned here
    // so that the server knows BYTES elements with NUL bytes cannot pass through.
    const session = await ort.InferenceSession.create(fixtureModel('string_identity'), quiet);
    const r = await session.run({ INPUT0: new ort.Tensor('string', ['a\u0000b', 'c'], [1, 2]) });
    assert.deepEqual(r.OUTPUT0.data, ['a', 'c']);
  });

  test('simple_string adds and subtracts decimal strings', async () => {
    const session = await ort.InferenceSession.create(repoModel('simple_string'), quiet);
    const a = Array.from({ length: 32 }, (_, i) => String(i * 7 - 50));
    const b = Array.from({ length: 32 }, (_, i) => String(1000 - i));
    const r = await session.run({
      INPUT0: new ort.Tensor('string', a, [2, 16]),
      INPUT1: new ort.Tensor('string', b, [2, 16]),
    });
    assert.deepEqual(r.OUTPUT0.data, a.map((x, i) => String(Number(x) + Number(b[i]))));
    assert.deepEqual(r.OUTPUT1.data, a.map((x, i) => String(Number(x) - Number(b[i]))));
  });

  test('simple_string fails on a string that is not a number', async () => {
    const session = await ort.InferenceSession.create(repoModel('simple_string'), { logSeverityLevel: 4 });
    const a = Array.from({ length: 16 }, () => 'abc');
    await assert.rejects(
      session.run({ INPUT0: new ort.Tensor('string', a, [1, 16]), INPUT1: new ort.Tensor('string', a, [1, 16]) }),
    );
  });

  test('all_types returns every type through Identity', async () => {
    const io = readModelIo(fixtureModel('all_types'));
    assert.deepEqual(io.inputs.map((i) => i.name), ALL_TYPES.map(([t]) => `IN_${t}`));
    assert.deepEqual(io.outputs.map((o) => o.elemType), ALL_TYPES.map(([, , onnx]) => onnx));
    const values: Record<string, ort.Tensor> = {
      BOOL: new ort.Tensor('bool', new Uint8Array([1, 0, 1]), [1, 3]),
      UINT8: new ort.Tensor('uint8', new Uint8Array([0, 7, 255]), [1, 3]),
      UINT16: new ort.Tensor('uint16', new Uint16Array([0, 7, 65535]), [1, 3]),
      UINT32: new ort.Tensor('uint32', new Uint32Array([0, 7, 4294967295]), [1, 3]),
      UINT64: new ort.Tensor('uint64', new BigUint64Array([0n, 7n, 2n ** 64n - 1n]), [1, 3]),
      INT8: new ort.Tensor('int8', new Int8Array([-128, 7, 127]), [1, 3]),
      INT16: new ort.Tensor('int16', new Int16Array([-32768, 7, 32767]), [1, 3]),
      INT32: new ort.Tensor('int32', new Int32Array([-2147483648, 7, 2147483647]), [1, 3]),
      INT64: new ort.Tensor('int64', new BigInt64Array([-(2n ** 63n), 7n, 2n ** 63n - 1n]), [1, 3]),
      FP16: new ort.Tensor('float16', new Uint16Array([0x3c00, 0xc000, 0x7bff]), [1, 3]),
      FP32: new ort.Tensor('float32', new Float32Array([1.5, -0, 3e38]), [1, 3]),
      FP64: new ort.Tensor('float64', new Float64Array([Math.PI, -1e300, 5e-324]), [1, 3]),
      // A different length from the others: every input has its own symbolic length.
      BYTES: new ort.Tensor('string', ['a', 'bb', '', 'dddd'], [2, 2]),
    };
    const session = await ort.InferenceSession.create(fixtureModel('all_types'), quiet);
    const feeds = Object.fromEntries(ALL_TYPES.map(([t]) => [`IN_${t}`, values[t]]));
    const r = await session.run(feeds);
    for (const [t] of ALL_TYPES) {
      const out = r[`OUT_${t}`];
      assert.equal(out.type, values[t].type, t);
      assert.deepEqual(out.dims, values[t].dims, t);
      assert.deepEqual(Array.from(out.data as ArrayLike<unknown>), Array.from(values[t].data as ArrayLike<unknown>), t);
    }
  });

  test('whole_shape doubles a fixed 2x3 tensor and its initializer is not an input', async () => {
    const io = readModelIo(fixtureModel('whole_shape'));
    assert.deepEqual(io.inputs, [{ name: 'INPUT0', elemType: 'FLOAT', shape: [2, 3] }]);
    assert.deepEqual(io.outputs, [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: [2, 3] }]);
    const session = await ort.InferenceSession.create(fixtureModel('whole_shape'), quiet);
    const r = await session.run({ INPUT0: new ort.Tensor('float32', new Float32Array([1, 2, 3, -4, 0.5, 0]), [2, 3]) });
    assert.deepEqual(Array.from(r.OUTPUT0.data as Float32Array), [2, 4, 6, -8, 1, 0]);
  });

  test('each version of versioned multiplies by its version number', async () => {
    for (const version of [1, 2, 3]) {
      const bytes = fixtureModel('versioned', version);
      assert.deepEqual(readModelIo(bytes).inputs, [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', 1] }]);
      const session = await ort.InferenceSession.create(bytes, quiet);
      const r = await session.run({ INPUT0: new ort.Tensor('float32', new Float32Array([1, 2.5, -3, 10]), [4, 1]) });
      assert.deepEqual(Array.from(r.OUTPUT0.data as Float32Array), [1, 2.5, -3, 10].map((x) => x * version));
    }
    assert.match(readFileSync(join(DEFAULT_FIXTURES_DIR, 'versioned', 'config.pbtxt'), 'utf8'), /^version_policy: \{ all \{ \} \}$/m);
  });

  test('no_config has no config.pbtxt and adds two FP32 inputs', async () => {
    assert.deepEqual(listFiles(join(DEFAULT_FIXTURES_DIR, 'no_config')), ['1/model.onnx']);
    const io = readModelIo(fixtureModel('no_config'));
    assert.deepEqual(io.inputs.map((i) => [i.name, i.elemType, i.shape]), [
      ['INPUT0', 'FLOAT', ['batch', 4]],
      ['INPUT1', 'FLOAT', ['batch', 4]],
    ]);
    assert.deepEqual(io.outputs, [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', 4] }]);
    const session = await ort.InferenceSession.create(fixtureModel('no_config'), quiet);
    const r = await session.run({
      INPUT0: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]),
      INPUT1: new ort.Tensor('float32', new Float32Array([10, 20, 30, 40]), [1, 4]),
    });
    assert.deepEqual(Array.from(r.OUTPUT0.data as Float32Array), [11, 22, 33, 44]);
  });

  test('bad_config has a valid model and an unknown field on line 3 of its config', async () => {
    await ort.InferenceSession.create(fixtureModel('bad_config'), quiet);
    const lines = readFileSync(join(DEFAULT_FIXTURES_DIR, 'bad_config', 'config.pbtxt'), 'utf8').split('\n');
    assert.equal(lines[2], 'max_batch_sise: 8');
  });

  test('corrupt is 64 bytes that onnxruntime refuses to load', async () => {
    const bytes = fixtureModel('corrupt');
    assert.equal(bytes.length, 64);
    await assert.rejects(ort.InferenceSession.create(bytes, quiet));
  });
});
