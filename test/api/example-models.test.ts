/**
 * The example repository for Triton's client examples (examples/model_repository) loads whole,
 * `repeat_int32` streams as Triton's decoupled example does, `simple_int8` answers
 * grpc_explicit_int8_content_client's request (INT8 typed contents in, raw INT8 contents back) and
 * `densenet_onnx` answers grpc_client.py's (a fixed [3, 224, 224] FP32 input as raw bytes, as
 * Triton's densenet_onnx takes).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeGrpcInferResponse } from '../../src/client/index.ts';
import { COLOUR_CLASSES } from '../../tools/generate-models.ts';
import { EXAMPLE_MODELS } from '../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';

describe('the example repository', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${EXAMPLE_MODELS}`, '--strict-model-config', 'true']);
  });
  after(() => ts.close());

  test('loads every model, with --strict-model-config true', () => {
    for (const model of ts.server.registry.all()) assert.equal(model.reason, '', `${model.name}: ${model.reason}`);
    assert.deepEqual(ts.server.registry.all().map((m) => m.name).sort(), ['densenet_onnx', 'repeat_int32', 'simple_dyna_sequence', 'simple_int8', 'simple_sequence', 'simple_string_dyna_sequence']);
    assert.equal(ts.server.registry.allReady(), true);
  });

  test('repeat_int32 streams what simple_grpc_custom_repeat sends for: one response per element, in order', async () => {
    const stream = ts.grpc.stream();
    const values = [4, 2, 0, 1];
    stream.send('repeat_int32', [
      { name: 'IN', datatype: 'INT32', shape: [4], data: values },
      { name: 'DELAY', datatype: 'UINT32', shape: [4], data: [1, 2, 3, 4] },
      { name: 'WAIT', datatype: 'UINT32', shape: [1], data: [5] },
    ], { id: '0' });
    for (let i = 0; i < values.length; i++) {
      const r = await stream.next();
      assert.equal(r.error, null);
      const out = Object.fromEntries(r.result!.outputs.map((o) => [o.name, Array.from(o.data as ArrayLike<number>)]));
      assert.deepEqual([r.id, r.final, out.OUT, out.IDX], ['0', false, [values[i]], [i]]);
    }
    await stream.end();
  });

  test('simple_int8 adds and subtracts INT8 typed contents, wrapping as INT8 does', async () => {
    const input0 = Array.from({ length: 16 }, (_, i) => i);
    const response = await ts.grpc.modelInfer({
      model_name: 'simple_int8',
      inputs: [
        { name: 'INPUT0', datatype: 'INT8', shape: [1, 16], contents: { int_contents: input0 } },
        { name: 'INPUT1', datatype: 'INT8', shape: [1, 16], contents: { int_contents: new Array(16).fill(127) } },
      ],
      outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT1' }],
    } as never);
    const [sum, difference] = decodeGrpcInferResponse(response).outputs;
    assert.equal(sum.datatype, 'INT8');
    assert.deepEqual(Array.from(sum.data as Int8Array), input0.map((v) => ((v + 127 + 128) % 256) - 128));
    assert.deepEqual(Array.from(difference.data as Int8Array), input0.map((v) => v - 127));
  });

  test('densenet_onnx takes grpc_client.py\'s request: FP32 [3, 224, 224] as raw bytes, no batch dimension', async () => {
    const config = await ts.grpc.modelConfig('densenet_onnx') as { input: { dims: string[] }[] };
    assert.deepEqual(config.input[0].dims.map(Number), [3, 224, 224]);
    // grpc_client.py fills the 602112 bytes with the letter 'a' (each FP32 about 2.25e-18).
    const response = await ts.grpc.modelInfer({
      model_name: 'densenet_onnx', id: 'my request id',
      inputs: [{ name: 'data_0', datatype: 'FP32', shape: [3, 224, 224] }],
      outputs: [{ name: 'fc6_1' }],
      raw_input_contents: [Buffer.alloc(602112, 'a')],
    } as never);
    const [scores] = decodeGrpcInferResponse(response).outputs;
    assert.equal(response.id, 'my request id');
    assert.equal(scores.datatype, 'FP32');
    assert.deepEqual(scores.shape, [COLOUR_CLASSES.length]);
    const sum = Array.from(scores.data as Float32Array).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `softmax scores sum to 1, got ${sum}`);
  });
});
