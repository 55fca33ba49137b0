/**
 * Triton's classification extension end to end, over HTTP (JSON and binary outputs) and gRPC
 * (unary and streams): the colour classifier standing in for densenet_onnx (no batch dimension,
 * a label file) and `simple` (batched INT32 outputs, no labels).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { COLOUR_CLASSES, COLOUR_SHARPNESS, DENSENET_SIDE } from '../../tools/generate-models.ts';
import { jsonOf, postJson, simpleRequest } from '../helpers/http.ts';
import { repositoryOf } from '../helpers/server.ts';
import { simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';

/** An image of one colour, CHW 3x224x224, in INCEPTION scaling ([-1, 1]). */
const colourImage = (rgb: readonly number[]) => ({
  name: 'data_0', datatype: 'FP32', shape: [3, DENSENET_SIDE, DENSENET_SIDE], data: rgb.flatMap((v) => new Array(DENSENET_SIDE ** 2).fill(v)),
});
const kColour = [0.8, 0.2, -0.6];

/** The classifier's scores for kColour, computed here: softmax of -s|m - p|^2. */
function expectedScores(): number[] {
  const logits = COLOUR_CLASSES.map(([, p]) => -COLOUR_SHARPNESS * p.reduce((n, v, c) => n + (kColour[c] - v) ** 2, 0));
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Checks `value:index:label` strings against the expected scores, best first. */
function assertTopColours(strings: readonly string[], count: number): void {
  const scores = expectedScores();
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]).slice(0, count);
  assert.equal(strings.length, count);
  strings.forEach((s, k) => {
    const [value, index, label] = s.split(':');
    assert.equal(Number(index), order[k], s);
    assert.equal(label, COLOUR_CLASSES[order[k]][0], s);
    assert.match(value, /^\d+\.\d{6}$/);
    assert.ok(Math.abs(Number(value) - scores[order[k]]) < 2e-6, `${s}: expected ${scores[order[k]]}`);
  });
}

describe('classification', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('densenet_onnx', 'simple')}`]);
  });
  after(() => ts.close());

  test('is advertised among the extensions', async () => {
    const meta = await ts.client.serverMetadata() as { extensions: string[] };
    assert.ok(meta.extensions.includes('classification'));
  });

  test('answers the top classes with their labels over HTTP JSON, shape [count] without a batch dimension', async () => {
    const res = await postJson(`${ts.url}/v2/models/densenet_onnx/infer`, {
      inputs: [colourImage(kColour)], outputs: [{ name: 'fc6_1', parameters: { classification: 3 } }],
    });
    assert.equal(res.status, 200, res.body.toString());
    const [out] = jsonOf(res).outputs;
    assert.equal(out.name, 'fc6_1');
    assert.equal(out.datatype, 'BYTES');
    assert.deepEqual(out.shape, [3]);
    assertTopColours(out.data, 3);
    assert.equal(out.data[0].split(':')[2], 'yellow');
  });

  test('answers the same as binary output over HTTP, and the raw scores without classification', async () => {
    const result = await ts.client.infer('densenet_onnx', [colourImage(kColour)], { outputs: [{ name: 'fc6_1', classCount: 2 }], binaryOutputs: true });
    assert.equal(result.outputs[0].datatype, 'BYTES');
    assertTopColours(result.outputs[0].data as string[], 2);
    const plain = await ts.client.infer('densenet_onnx', [colourImage(kColour)]);
    assert.equal(plain.outputs[0].datatype, 'FP32');
    assert.deepEqual(plain.outputs[0].shape, [COLOUR_CLASSES.length]);
  });

  test('answers over gRPC unary and streams, as int64 class_count', async () => {
    const unary = await ts.grpc.infer('densenet_onnx', [colourImage(kColour)], { outputs: [{ name: 'fc6_1', classCount: 3 }] });
    assert.equal(unary.outputs[0].datatype, 'BYTES');
    assert.deepEqual(unary.outputs[0].shape, [3]);
    assertTopColours(unary.outputs[0].data as string[], 3);
    const stream = ts.grpc.stream();
    stream.send('densenet_onnx', [colourImage(kColour)], { id: 's1', outputs: [{ name: 'fc6_1', classCount: 1 }] });
    const first = await stream.next();
    assert.equal(first.error, null);
    assertTopColours(first.result!.outputs[0].data as string[], 1);
    await stream.end();
  });

  test('ranks each batch entry of a batched output: shape [batch, count], integers without decimals', async () => {
    const res = await postJson(`${ts.url}/v2/models/simple/infer`, simpleRequest(2, { outputs: [{ name: 'OUTPUT0', parameters: { classification: 2 } }, { name: 'OUTPUT1' }] }));
    assert.equal(res.status, 200, res.body.toString());
    const [sum, difference] = jsonOf(res).outputs;
    assert.deepEqual(sum.shape, [2, 2]);
    assert.equal(sum.datatype, 'BYTES');
    // simpleRequest's INPUT0 rows are 0..15 and 16..31, INPUT1 all ones.
    assert.deepEqual(sum.data, ['16:15', '15:14', '32:15', '31:14']);
    assert.equal(difference.datatype, 'INT32');
    const grpcResult = await ts.grpc.infer('simple', simpleInputs(2), { outputs: [{ name: 'OUTPUT1', classCount: 100 }] });
    assert.deepEqual(grpcResult.outputs[0].shape, [2, 16]);
    assert.deepEqual((grpcResult.outputs[0].data as string[]).slice(0, 2), ['14:15', '13:14']);
  });

  test('refuses a classification count that is not an integer, over HTTP', async () => {
    const res = await postJson(`${ts.url}/v2/models/simple/infer`, simpleRequest(1, { outputs: [{ name: 'OUTPUT0', parameters: { classification: 'three' } }] }));
    assert.equal(res.status, 400);
    assert.match(jsonOf(res).error, /Unable to set 'classification'/);
  });
});
