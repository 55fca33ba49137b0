/**
 * The model repository extension over gRPC in explicit mode, driven with the calls Triton's
 * `simple_grpc_model_control` example makes (tritonclient.grpc: RepositoryIndex,
 * RepositoryModelLoad with a config string and file bytes, RepositoryModelUnload).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startGrpcTestServer, simpleInputs, type GrpcTestServer } from '../helpers/grpc.ts';
import { repositoryOf } from '../helpers/server.ts';

async function rejectsWith(promise: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, err.details);
    assert.match(err.details, message);
    return true;
  });
}

describe('model control over gRPC, explicit mode', () => {
  let ts: GrpcTestServer;
  let repo: string;
  before(async () => {
    repo = repositoryOf('simple', 'simple_identity');
    ts = await startGrpcTestServer([`--model-repository=${repo}`, '--model-control-mode=explicit']);
  });
  after(() => ts?.close());

  test('runs the steps of Triton\'s simple_grpc_model_control example', async () => {
    const index = await ts.grpc.repositoryIndex();
    assert.deepEqual(index, [
      { name: 'simple', version: '', state: '', reason: '' },
      { name: 'simple_identity', version: '', state: '', reason: '' },
    ]);
    await ts.grpc.repositoryModelLoad('simple');
    assert.equal(await ts.grpc.modelReady('simple'), true);
    await rejectsWith(ts.grpc.repositoryModelLoad('simple', { config: '"parameters": {"config": {{"max_batch_size": "16"}}}' }), grpc.status.INTERNAL, /failed to load/);
    await ts.grpc.repositoryModelLoad('simple', { config: '{"max_batch_size":"16"}' });
    assert.equal((await ts.grpc.modelConfig('simple')).max_batch_size, 16);
    await ts.grpc.repositoryModelUnload('simple');
    assert.equal(await ts.grpc.modelReady('simple'), false);
    // A path segment longer than NAME_MAX: refused, and the server lives on.
    await rejectsWith(ts.grpc.repositoryModelLoad('simple', { config: '{}', files: { [`file:${'A'.repeat(256)}`]: new Uint8Array([97]) } }), grpc.status.INTERNAL, /failed to poll from model repository/);
    assert.equal(await ts.grpc.serverLive(), true);
    await rejectsWith(ts.grpc.repositoryModelLoad('wrong_model_name'), grpc.status.INTERNAL, /failed to load/);
  });

  test('loads a model from file bytes, serves it, and unloads it with unload_dependents', async () => {
    const onnx = readFileSync(path.join(repo, 'simple', '1', 'model.onnx'));
    await ts.grpc.repositoryModelLoad('from_bytes', { config: '{"max_batch_size": 2}', files: { 'file:1/model.onnx': onnx } });
    const result = await ts.grpc.infer('from_bytes', simpleInputs());
    assert.deepEqual(Array.from(result.outputs[0].data as ArrayLike<number>).slice(0, 3), [1, 2, 3]);
    await ts.grpc.repositoryModelUnload('from_bytes', true);
    assert.equal(await ts.grpc.modelReady('from_bytes'), false);
    const rows = (await ts.grpc.repositoryIndex()).filter((r) => r.name === 'from_bytes');
    assert.deepEqual(rows, [{ name: 'from_bytes', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' }]);
  });

  test('a load whose model fails answers INVALID_ARGUMENT with the version\'s reason', async () => {
    await rejectsWith(ts.grpc.repositoryModelLoad('broken', { config: '{}', files: { 'file:1/model.onnx': new Uint8Array([1, 2, 3]) } }), grpc.status.INVALID_ARGUMENT, /^load failed for model 'broken': /);
  });
});
