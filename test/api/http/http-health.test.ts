import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VERSION } from '../../../src/server/server-lifecycle.ts';
import { inject, jsonOf, request } from '../../helpers/http.ts';
import { EXAMPLES, repositoryOf, startTestServer, type TestServer } from '../../helpers/server.ts';

// Two servers: the example repository, where every model loads (all have a config.pbtxt, so
// strict mode, without auto-complete, must load them too), and the fixtures, where bad_config
// and corrupt do not.
let examples: TestServer;
let fixtures: TestServer;

before(async () => {
  examples = await startTestServer([`--model-repository=${EXAMPLES}`, '--strict-model-config', 'true']);
  // Every fixture but `slow`, which nothing here uses.
  fixtures = await startTestServer([`--model-repository=${repositoryOf('all_types', 'bad_config', 'corrupt', 'no_config', 'versioned', 'whole_shape')}`]);
});

after(async () => {
  await examples?.close();
  await fixtures?.close();
});

// The routes' answers come through fastify's inject(); the live check and the client's calls
// (metadata, readiness, config, inference) go over a real socket.
describe('server health', () => {
  test('answers live with 200 and an empty body over a real socket', async () => {
    const res = await request(`${examples.url}/v2/health/live`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
  });

  test('answers ready with 200 when every model loaded, with --strict-model-config true', async () => {
    assert.equal((await inject(examples, '/v2/health/ready')).status, 200);
  });

  test('answers ready with 400 but stays live when a model in the repository failed to load', async () => {
    assert.equal((await inject(fixtures, '/v2/health/ready')).status, 400);
    assert.equal((await inject(fixtures, '/v2/health/live')).status, 200);
  });

  test('describes the server at GET /v2: name, version and the extensions it implements', async () => {
    const meta = jsonOf(await inject(examples, '/v2'));
    assert.equal(meta.name, 'nereid');
    assert.equal(meta.version, VERSION);
    assert.match(meta.version, /^\d+\.\d+\.\d+/);
    // Exactly what works, in Triton's order: no model_repository or cuda_shared_memory.
    assert.deepEqual(meta.extensions, ['classification', 'sequence', 'sequence(string_id)', 'schedule_policy', 'model_configuration', 'system_shared_memory',
      'binary_tensor_data', 'parameters', 'statistics', 'trace', 'logging']);
  });
});

describe('model metadata', () => {
  test('lists the ready versions and the inputs and outputs with the batch dimension as -1', async () => {
    assert.deepEqual(await examples.client.modelMetadata('simple'), {
      name: 'simple',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] }, { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] }],
      outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] }, { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] }],
    });
  });

  test('lists every version without a version in the URL, and only the named one with it', async () => {
    assert.deepEqual((await fixtures.client.modelMetadata('versioned')).versions, ['1', '2', '3']);
    assert.deepEqual((await fixtures.client.modelMetadata('versioned', 2)).versions, ['2']);
  });

  test('gives the whole shape of a model without batching', async () => {
    const meta = await fixtures.client.modelMetadata('whole_shape');
    assert.deepEqual(meta.inputs, [{ name: 'INPUT0', datatype: 'FP32', shape: [2, 3] }]);
  });

  test('answers 404 with Triton wording for an unknown model or version', async () => {
    const model = await inject(examples, '/v2/models/nope');
    assert.equal(model.status, 404);
    assert.deepEqual(jsonOf(model), { error: "Request for unknown model: 'nope' is not found" });
    const version = await inject(fixtures, '/v2/models/versioned/versions/4');
    assert.equal(version.status, 404);
    assert.deepEqual(jsonOf(version), { error: "Request for unknown model: 'versioned' version 4 is not found" });
  });
});

describe('model readiness', () => {
  test('answers 200 for each loaded version and for the model itself', async () => {
    for (const v of [1, 2, 3]) assert.equal(await fixtures.client.isModelReady('versioned', v), true, `version ${v}`);
    assert.equal(await fixtures.client.isModelReady('versioned'), true);
  });

  test('answers 400 for a version that does not exist, a non-numeric version and an unknown model', async () => {
    assert.equal((await inject(fixtures, '/v2/models/versioned/versions/4/ready')).status, 400);
    const malformed = await inject(fixtures, '/v2/models/versioned/versions/two/ready');
    assert.equal(malformed.status, 400);
    assert.deepEqual(jsonOf(malformed), { error: "failed to get model version from specified version string 'two' (details: not an integer), version should be an integral value > 0" });
    assert.equal((await inject(fixtures, '/v2/models/versioned/versions/02/ready')).status, 200);
    assert.equal((await inject(fixtures, '/v2/models/nope/ready')).status, 400);
  });

  test('answers 400 for a model that failed to load', async () => {
    assert.equal(await fixtures.client.isModelReady('bad_config'), false);
    assert.equal(await fixtures.client.isModelReady('corrupt'), false);
    assert.equal(await fixtures.client.isModelReady('all_types'), true);
  });
});

describe('model configuration', () => {
  test("answers Triton's JSON: dims and other int64 fields Triton fixes as numbers, TYPE_ names and the default instance group", async () => {
    const config = await examples.client.modelConfig('simple');
    assert.equal(config.name, 'simple');
    assert.equal(config.platform, 'onnxruntime_onnx');
    assert.equal(config.backend, 'onnxruntime');
    assert.equal(config.max_batch_size, 8);
    const inputs = config.input as { name: string; data_type: string; dims: unknown[] }[];
    assert.deepEqual(inputs.map((t) => [t.name, t.data_type, t.dims]), [['INPUT0', 'TYPE_INT32', [16]], ['INPUT1', 'TYPE_INT32', [16]]]);
    const outputs = config.output as { name: string; data_type: string; dims: unknown[] }[];
    assert.deepEqual(outputs.map((t) => [t.name, t.data_type, t.dims]), [['OUTPUT0', 'TYPE_INT32', [16]], ['OUTPUT1', 'TYPE_INT32', [16]]]);
    const groups = config.instance_group as { name: string; kind: string; count: number }[];
    assert.equal(groups.length, 1);
    assert.equal(groups[0].name, 'simple_0');
    assert.equal(groups[0].kind, 'KIND_CPU');
    assert.equal(groups[0].count, 1);
    assert.deepEqual(config.version_policy, { latest: { num_versions: 1 } });
    assert.deepEqual((config.dynamic_batching as { preferred_batch_size: unknown }).preferred_batch_size, []);
    assert.equal((config.dynamic_batching as { max_queue_delay_microseconds: unknown }).max_queue_delay_microseconds, 0);
  });

  test('answers the auto-completed config of a model without config.pbtxt', async () => {
    const config = await fixtures.client.modelConfig('no_config');
    assert.equal(config.name, 'no_config');
    assert.equal(config.max_batch_size, 4);
    assert.equal(typeof config.dynamic_batching, 'object');
    assert.notEqual(config.dynamic_batching, null);
    const inputs = config.input as { name: string; data_type: string; dims: unknown[] }[];
    assert.deepEqual(inputs.map((t) => [t.name, t.data_type, t.dims]), [['INPUT0', 'TYPE_FP32', [4]], ['INPUT1', 'TYPE_FP32', [4]]]);
    const outputs = config.output as { name: string; data_type: string; dims: unknown[] }[];
    assert.deepEqual(outputs.map((t) => [t.name, t.data_type, t.dims]), [['OUTPUT0', 'TYPE_FP32', [4]]]);
  });

  test('answers the version policy of the versioned model', async () => {
    assert.deepEqual((await fixtures.client.modelConfig('versioned')).version_policy, { all: {} });
  });
});

describe('models that fail to load', () => {
  test('report their reason in the log lines', () => {
    const badConfig = fixtures.log.find((l) => l.includes("model 'bad_config' failed to load"));
    assert.ok(badConfig, fixtures.log.join('\n'));
    assert.match(badConfig, /config\.pbtxt:3:\d+: unknown field 'max_batch_sise'/);
    const corrupt = fixtures.log.find((l) => l.includes("model 'corrupt' failed to load"));
    assert.ok(corrupt, fixtures.log.join('\n'));
    assert.match(corrupt, /not a valid ONNX model/);
    assert.ok(fixtures.log.includes("model 'versioned' version 3: READY"));
  });

  test('answer metadata requests with 503 and no available versions', async () => {
    const res = await inject(fixtures, '/v2/models/bad_config');
    assert.equal(res.status, 503);
    assert.deepEqual(jsonOf(res), { error: "Request for unknown model: 'bad_config' has no available versions" });
  });

  test('do not stop the other models from serving', async () => {
    const result = await fixtures.client.infer('whole_shape', [{ name: 'INPUT0', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }]);
    assert.deepEqual(result.outputs[0].data, [2, 4, 6, 8, 10, 12]);
  });
});
