/**
 * The onnxruntime backend on its own, on this thread: the Backend interface over real models,
 * without a server or a worker. (Batches through workers are tested end to end elsewhere.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OnnxruntimeBackend, ortLogSeverity } from '../../../src/workers/backends/onnxruntime.ts';
import { loadBackend } from '../../../src/workers/backends/load-backend.ts';
import type { BackendSetup } from '../../../src/workers/index.ts';
import { EXAMPLES, FIXTURES } from '../../helpers/server.ts';

const setupFor = (dir: string, model: string): BackendSetup => ({
  model, version: 1, modelPath: path.join(dir, model, '1', 'model.onnx'), device: { kind: 'cpu' }, intraOpThreads: 1, interOpThreads: 1,
});

describe('the onnxruntime backend', () => {
  const simple = new OnnxruntimeBackend();
  before(async () => {
    const metadata = await simple.load(setupFor(EXAMPLES, 'simple'));
    assert.deepEqual(metadata.inputs.map((t) => [t.name, t.type, t.shape.length]), [['INPUT0', 'int32', 2], ['INPUT1', 'int32', 2]]);
    assert.deepEqual(metadata.outputs.map((t) => [t.name, t.type, t.shape.length]), [['OUTPUT0', 'int32', 2], ['OUTPUT1', 'int32', 2]]);
  });
  after(() => simple.unload());

  test('runs a batch of typed arrays and answers only the outputs asked for', async () => {
    const a = Int32Array.from({ length: 32 }, (_, i) => i);
    const b = new Int32Array(32).fill(3);
    const out = await simple.execute({ INPUT0: { type: 'int32', dims: [2, 16], data: a }, INPUT1: { type: 'int32', dims: [2, 16], data: b } }, ['OUTPUT1']);
    assert.deepEqual(Object.keys(out), ['OUTPUT1']);
    assert.equal(out.OUTPUT1.type, 'int32');
    assert.deepEqual(out.OUTPUT1.dims, [2, 16]);
    assert.deepEqual([...(out.OUTPUT1.data as Int32Array)], [...a].map((v) => v - 3));
  });

  test('takes and gives BYTES tensors as string arrays', async () => {
    const strings = new OnnxruntimeBackend();
    await strings.load(setupFor(EXAMPLES, 'simple_string'));
    try {
      const a = Array.from({ length: 16 }, (_, i) => String(i));
      const out = await strings.execute({ INPUT0: { type: 'string', dims: [1, 16], data: a }, INPUT1: { type: 'string', dims: [1, 16], data: new Array(16).fill('1') } }, ['OUTPUT0']);
      assert.equal(out.OUTPUT0.type, 'string');
      assert.deepEqual(out.OUTPUT0.dims, [1, 16]);
      assert.ok(Array.isArray(out.OUTPUT0.data) && out.OUTPUT0.data.every((s) => typeof s === 'string'), 'one string per element');
    } finally {
      await strings.unload();
    }
  });

  test('runs nothing once unloaded', async () => {
    const whole = new OnnxruntimeBackend();
    await whole.load(setupFor(FIXTURES, 'whole_shape'));
    const input = { INPUT0: { type: 'float32', dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) } };
    assert.deepEqual([...((await whole.execute(input, ['OUTPUT0'])).OUTPUT0.data as Float32Array)], [2, 4, 6, 8, 10, 12]);
    await whole.unload();
    await assert.rejects(whole.execute(input, ['OUTPUT0']), { message: 'the onnxruntime session is not loaded' });
  });
});

describe('loading a backend module by URL', () => {
  test('loads the onnxruntime module and reports the model io', async () => {
    const url = new URL('../../../src/workers/backends/onnxruntime.ts', import.meta.url).href;
    const { backend, metadata } = await loadBackend('onnxruntime', url, setupFor(FIXTURES, 'whole_shape'));
    assert.deepEqual(metadata.inputs.map((t) => [t.name, t.type]), [['INPUT0', 'float32']]);
    await backend.unload();
  });

  test('names the backend when its module does not export createBackend', async () => {
    const url = new URL('../../fixtures/backends/crash-marker.ts', import.meta.url).href;
    await assert.rejects(loadBackend('marker', url, setupFor(FIXTURES, 'whole_shape')), { message: `backend 'marker': ${url} does not export createBackend()` });
  });

  test('names the backend when its module cannot be found', async () => {
    const url = pathToFileURL(path.join(FIXTURES, '..', 'backends', 'missing.js')).href;
    await assert.rejects(loadBackend('missing', url, setupFor(FIXTURES, 'whole_shape')), { message: new RegExp(`^backend 'missing': cannot import ${url.replace(/[.]/g, '\\.')} \\(`) });
  });
});

describe("onnxruntime's own log level", () => {
  test('is fatal only at --log-verbose=0, then warning, info and verbose as the level rises', () => {
    assert.deepEqual([0, 1, 2, 3, 7].map(ortLogSeverity), [4, 2, 1, 0, 0]);
  });
});
