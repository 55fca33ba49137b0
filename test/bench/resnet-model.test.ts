import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ensureResnetRepository, RESNET_CLASSES, RESNET_INPUT } from '../../bench/resnet-model.ts';
import { readModelIo } from '../../src/model-config/onnx-model.ts';

const repo = mkdtempSync(path.join(tmpdir(), 'nereid-resnet-test-'));
after(() => rmSync(repo, { recursive: true, force: true }));

test('ensureResnetRepository writes the model and a batching config under the given repository', () => {
  const file = ensureResnetRepository(4, repo);
  assert.equal(file, path.join(repo, 'resnet', '1', 'model.onnx'));
  const io = readModelIo(readFileSync(file));
  assert.deepEqual(io.inputs, [{ name: 'INPUT0', elemType: 'FLOAT', shape: ['batch', ...RESNET_INPUT] }]);
  assert.deepEqual(io.outputs, [{ name: 'OUTPUT0', elemType: 'FLOAT', shape: ['batch', RESNET_CLASSES] }]);
  const config = readFileSync(path.join(repo, 'resnet', 'config.pbtxt'), 'utf8');
  assert.match(config, /platform: "onnxruntime_onnx"/);
  assert.match(config, /max_batch_size: 4\n/);
  assert.match(config, /dynamic_batching \{ \}/);
  assert.match(config, /dims: \[ 3, 224, 224 \]/);

  // A second call keeps the model file and rewrites the config with the new batch size.
  const before = statSync(file).mtimeMs;
  ensureResnetRepository(16, repo);
  assert.equal(statSync(file).mtimeMs, before);
  assert.match(readFileSync(path.join(repo, 'resnet', 'config.pbtxt'), 'utf8'), /max_batch_size: 16\n/);
});

test('the ResNet runs in onnxruntime on a batch of two images, with finite logits that differ per image', async () => {
  const file = ensureResnetRepository(4, repo);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const size = RESNET_INPUT[0] * RESNET_INPUT[1] * RESNET_INPUT[2];
    const images = new Float32Array(2 * size);
    for (let i = 0; i < size; i++) {
      images[i] = (i % 251) / 251; // a ramp
      images[size + i] = ((i * 7919) % 256) / 256; // a scramble
    }
    const { OUTPUT0 } = await session.run({ INPUT0: new ort.Tensor('float32', images, [2, ...RESNET_INPUT]) });
    assert.deepEqual(OUTPUT0.dims, [2, RESNET_CLASSES]);
    const logits = OUTPUT0.data as Float32Array;
    assert.ok(logits.every(Number.isFinite), 'every logit is finite');
    const first = logits.subarray(0, RESNET_CLASSES);
    const second = logits.subarray(RESNET_CLASSES);
    const spread = (a: Float32Array) => Math.max(...a) - Math.min(...a);
    assert.ok(spread(first) > 1e-3 && spread(second) > 1e-3, 'the logits are not all equal');
    const largestDifference = Math.max(...first.map((v, i) => Math.abs(v - second[i])));
    assert.ok(largestDifference > 1e-3, `two images give different logits (largest difference ${largestDifference})`);
  } finally {
    await session.release();
  }
});
