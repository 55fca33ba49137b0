/**
 * Every RPC of GRPCInferenceService other than inference, end to end: health, metadata,
 * configuration, statistics, the repository index, and load/unload outside explicit mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { inferenceServiceDefinition } from '../../../src/protocol/grpc-proto.ts';
import { repositoryOf } from '../../helpers/server.ts';
import { simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';

/** Asserts that `promise` rejects with `code` and a message matching `message`. */
async function rejectsWith(promise: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    assert.match(err.details, message);
    return true;
  });
}

describe('gRPC health, metadata, config and repository RPCs', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple', 'bad_config', 'corrupt', 'versioned')}`]);
  });
  after(() => ts.close());

  test('ServerLive answers live', async () => {
    assert.equal(await ts.grpc.serverLive(), true);
  });

  test('ServerReady answers not ready while a model failed to load, as HTTP does', async () => {
    assert.equal(await ts.grpc.serverReady(), false);
    assert.equal(await ts.client.isReady(), false);
  });

  test('ModelReady answers per model and version', async () => {
    assert.equal(await ts.grpc.modelReady('simple'), true);
    assert.equal(await ts.grpc.modelReady('versioned', 2), true);
    assert.equal(await ts.grpc.modelReady('versioned', 7), false);
    assert.equal(await ts.grpc.modelReady('corrupt'), false);
    assert.equal(await ts.grpc.modelReady('nope'), false);
  });

  test('ServerMetadata names the server, its version and extensions', async () => {
    const meta = await ts.grpc.serverMetadata();
    assert.deepEqual(meta, { ...(await ts.client.serverMetadata()) });
    assert.equal(meta.name, 'nereid');
  });

  test('ModelMetadata describes tensors with the batch dimension, like the HTTP route', async () => {
    const meta = await ts.grpc.modelMetadata('simple');
    assert.deepEqual(meta, {
      name: 'simple',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] }, { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] }],
      outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] }, { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] }],
    });
    assert.deepEqual(meta, await ts.client.modelMetadata('simple'));
    assert.deepEqual((await ts.grpc.modelMetadata('versioned')).versions, ['1', '2', '3']);
    assert.deepEqual((await ts.grpc.modelMetadata('versioned', 2)).versions, ['2']);
  });

  test('ModelMetadata answers NOT_FOUND for an unknown model or version', async () => {
    await rejectsWith(ts.grpc.modelMetadata('nope'), grpc.status.NOT_FOUND, /^Request for unknown model: 'nope' is not found$/);
    await rejectsWith(ts.grpc.modelMetadata('versioned', 9), grpc.status.NOT_FOUND, /'versioned' version 9 is not found/);
  });

  test("refuses a malformed version string with Triton's message, on metadata and readiness alike", async () => {
    const bad = /^failed to get model version from specified version string 'wrong_specification' \(details: not an integer\), version should be an integral value > 0$/;
    await rejectsWith(ts.grpc.modelMetadata('simple', 'wrong_specification'), grpc.status.INVALID_ARGUMENT, bad);
    await rejectsWith(ts.grpc.modelReady('simple', 'wrong_specification'), grpc.status.INVALID_ARGUMENT, bad);
    await rejectsWith(ts.grpc.modelReady('simple', '-2'), grpc.status.INVALID_ARGUMENT, /^invalid model version specified '-2' , version should be an integral value > 0$/);
    // Leading zeros read as Triton reads them.
    assert.equal(await ts.grpc.modelReady('versioned', '02'), true);
    assert.deepEqual((await ts.grpc.modelMetadata('versioned', '03')).versions, ['3']);
    await rejectsWith(ts.grpc.modelMetadata('bad_config'), grpc.status.UNAVAILABLE, /'bad_config' has no available versions/);
  });

  test('ModelConfig answers the completed config, as the HTTP config route does', async () => {
    const config = await ts.grpc.modelConfig('simple');
    const http = await ts.client.modelConfig('simple');
    assert.equal(config.name, 'simple');
    assert.equal(config.max_batch_size, 8);
    assert.equal(config.platform, 'onnxruntime_onnx');
    for (const key of ['input', 'output', 'instance_group'] as const) {
      // The loader writes unset sub-messages as null where the HTTP JSON leaves them out.
      // The HTTP JSON prints dims as numbers (as Triton's does); this gRPC client decodes int64 as strings.
      const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (x === null ? undefined : k === 'dims' ? (x as unknown[]).map(Number) : x)));
      const comparable = (list: Record<string, unknown>[]) => list.map((t) => Object.fromEntries(Object.keys(t).filter((k) => k in (http[key] as Record<string, unknown>[])[0]).map((k) => [k, t[k]])));
      assert.deepEqual(comparable(strip(config[key]) as Record<string, unknown>[]), strip(http[key]), key);
    }
    assert.equal((await ts.grpc.modelConfig('versioned', 3)).name, 'versioned');
  });

  test('ModelConfig answers NOT_FOUND for an unknown model or version', async () => {
    await rejectsWith(ts.grpc.modelConfig('nope'), grpc.status.NOT_FOUND, /'nope' is not found/);
    await rejectsWith(ts.grpc.modelConfig('versioned', 9), grpc.status.NOT_FOUND, /'versioned' version 9 is not found/);
  });

  test('RepositoryIndex lists every version with its state and reason, like the HTTP route', async () => {
    const index = await ts.grpc.repositoryIndex();
    const byName = (name: string) => index.filter((m) => m.name === name);
    assert.deepEqual(byName('simple'), [{ name: 'simple', version: '1', state: 'READY', reason: '' }]);
    assert.deepEqual(byName('versioned').map((m) => m.version), ['1', '2', '3']);
    const [bad] = byName('bad_config');
    assert.equal(bad.version, '');
    assert.equal(bad.state, 'UNAVAILABLE');
    assert.match(bad.reason, /max_batch_sise/);
    const [corrupt] = byName('corrupt');
    assert.equal(corrupt.state, 'UNAVAILABLE');
    assert.notEqual(corrupt.reason, '');
    const http = (await (await fetch(`${ts.url}/v2/repository/index`, { method: 'POST' })).json()) as { name: string; version?: string }[];
    assert.deepEqual(index.map((m) => `${m.name}/${m.version}`), http.map((m) => `${m.name}/${m.version ?? ''}`));
  });

  test('RepositoryIndex with ready lists only READY versions', async () => {
    const ready = await ts.grpc.repositoryIndex(true);
    assert.ok(ready.length > 0);
    assert.ok(ready.every((m) => m.state === 'READY'));
    assert.ok(!ready.some((m) => m.name === 'corrupt' || m.name === 'bad_config'));
  });

  test('ModelStatistics answers the counts the HTTP statistics route answers', async () => {
    await ts.grpc.infer('simple', simpleInputs());
    await ts.grpc.infer('simple', simpleInputs(2));
    const grpcStats = await ts.grpc.modelStatistics('simple');
    const httpStats = (await (await fetch(`${ts.url}/v2/models/simple/stats`)).json()) as { model_stats: Record<string, any>[] };
    assert.equal(grpcStats.model_stats.length, 1);
    const [g] = grpcStats.model_stats;
    const [h] = httpStats.model_stats;
    assert.equal(g.name, 'simple');
    assert.equal(g.version, '1');
    assert.ok(Number(g.inference_count) >= 3, `inference_count ${g.inference_count}`);
    for (const key of ['inference_count', 'execution_count', 'last_inference'] as const) assert.equal(Number(g[key]), Number(h[key]), key);
    assert.equal(Number(g.inference_stats.success.count), h.inference_stats.success.count);
    assert.deepEqual(g.batch_stats.map((b: any) => Number(b.batch_size)), h.batch_stats.map((b: any) => b.batch_size));
  });

  test('ModelStatistics lists every ready version with no name, and answers NOT_FOUND for an unknown model', async () => {
    const all = await ts.grpc.modelStatistics();
    const names = all.model_stats.map((m: any) => `${m.name}/${m.version}`);
    assert.ok(names.includes('simple/1') && names.includes('versioned/3'), names.join(', '));
    assert.ok(!names.some((n: string) => n.startsWith('corrupt/')));
    assert.deepEqual((await ts.grpc.modelStatistics('versioned', 2)).model_stats.map((m: any) => m.version), ['2']);
    await rejectsWith(ts.grpc.modelStatistics('nope'), grpc.status.NOT_FOUND, /'nope' is not found/);
    await rejectsWith(ts.grpc.modelStatistics('versioned', 9), grpc.status.NOT_FOUND, /'versioned' version 9 is not found/);
  });

  // Outside explicit mode, Triton's answer (explicit mode: test/repository/model-control-grpc.test.ts).
  const controlRpcs: [string, () => Promise<unknown>][] = [
    ['RepositoryModelLoad', () => ts.grpc.repositoryModelLoad('simple')],
    ['RepositoryModelUnload', () => ts.grpc.repositoryModelUnload('simple')],
  ];

  test('LogSettings changes the logging settings that HTTP reports too, and answers them', async () => {
    const answer = await ts.grpc.call('LogSettings', { settings: { log_verbose_level: { uint32_param: 2 } } }) as { settings: Record<string, Record<string, unknown>> };
    assert.equal(Number(answer.settings.log_verbose_level.uint32_param), 2);
    const http = await (await fetch(`${ts.url}/v2/logging`)).json() as { log_verbose_level: number };
    assert.equal(http.log_verbose_level, 2);
    await ts.grpc.call('LogSettings', { settings: { log_verbose_level: { uint32_param: 0 } } });
  });

  test('TraceSetting changes a model\'s trace settings and refuses an unknown model', async () => {
    const answer = await ts.grpc.call('TraceSetting', { model_name: 'simple', settings: { trace_rate: { value: ['7'] } } }) as { settings: Record<string, { value: string[] }> };
    assert.deepEqual(answer.settings.trace_rate.value, ['7']);
    const http = await (await fetch(`${ts.url}/v2/models/simple/trace/setting`)).json() as { trace_rate: string };
    assert.equal(http.trace_rate, '7');
    await rejectsWith(ts.grpc.call('TraceSetting', { model_name: 'nope', settings: {} }), grpc.status.NOT_FOUND, /'nope' is not found/);
  });
  for (const [rpc, call] of controlRpcs) {
    test(`${rpc} answers Triton's UNAVAILABLE outside explicit model control mode`, async () => {
      await rejectsWith(call(), grpc.status.UNAVAILABLE, /^explicit model load \/ unload is not allowed if polling is enabled$/);
    });
  }

  // Started without --allow-client-shm: status answers (nothing registered), the rest refuse by the flag.
  // The shared-memory RPCs with the flag on are covered by grpc-shm.test.ts.
  const shmRpcs = ['SystemSharedMemoryStatus', 'SystemSharedMemoryRegister', 'SystemSharedMemoryUnregister', 'CudaSharedMemoryStatus', 'CudaSharedMemoryRegister', 'CudaSharedMemoryUnregister'];
  test('the shared-memory RPCs answer status and refuse the rest, naming --allow-client-shm, when client shared memory is off', async () => {
    assert.deepEqual(await ts.grpc.systemSharedMemoryStatus(), {});
    assert.deepEqual(await ts.grpc.cudaSharedMemoryStatus(), {});
    const flag = /Start the server with '--allow-client-shm=true' to enable/;
    await rejectsWith(ts.grpc.systemSharedMemoryRegister('r', '/k', 64), grpc.status.UNIMPLEMENTED, flag);
    await rejectsWith(ts.grpc.systemSharedMemoryUnregister('r'), grpc.status.UNIMPLEMENTED, flag);
    await rejectsWith(ts.grpc.systemSharedMemoryUnregister(), grpc.status.UNIMPLEMENTED, flag);
    await rejectsWith(ts.grpc.cudaSharedMemoryRegister('r', new Uint8Array(64), 0, 64), grpc.status.UNIMPLEMENTED, flag);
    await rejectsWith(ts.grpc.cudaSharedMemoryUnregister('r'), grpc.status.UNIMPLEMENTED, flag);
  });

  test('every RPC of the service is covered above or by the inference tests', () => {
    const covered = new Set(['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelConfig', 'ModelStatistics', 'RepositoryIndex', 'LogSettings', 'TraceSetting', 'ModelInfer', 'ModelStreamInfer', ...shmRpcs, ...controlRpcs.map(([rpc]) => rpc)]);
    assert.deepEqual(Object.keys(inferenceServiceDefinition()).filter((rpc) => !covered.has(rpc)), []);
    assert.equal(Object.keys(inferenceServiceDefinition()).length, 20);
  });
});
