/**
 * GrpcClient.modelInfer: ModelInfer straight on the channel, with a message or with bytes
 * encoded once, against a real server; its errors match those of grpc-js's generated client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeGrpcInferRequest, encodeModelInferRequest } from '../../src/client/index.ts';
import { repositoryOf } from '../helpers/server.ts';
import { simpleExpected, simpleInputs, startGrpcTestServer, type GrpcTestServer } from '../helpers/grpc.ts';

const int32s = (b: Uint8Array) => Array.from(new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));

describe('GrpcClient.modelInfer', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('simple')}`]);
  });
  after(() => ts.close());

  test('sends one request, encoded once, many times at once, and gets each answer', async () => {
    const bytes = encodeModelInferRequest(encodeGrpcInferRequest('simple', simpleInputs(), { id: 'again' }));
    const answers = await Promise.all(Array.from({ length: 8 }, () => ts.grpc.modelInfer(bytes)));
    const { sum, difference } = simpleExpected();
    for (const res of answers) {
      assert.equal(res.id, 'again');
      assert.deepEqual(res.outputs.map((o) => [o.name, o.datatype, o.shape]), [['OUTPUT0', 'INT32', ['1', '16']], ['OUTPUT1', 'INT32', ['1', '16']]]);
      assert.deepEqual(res.raw_output_contents.map(int32s), [sum, difference]);
    }
  });

  test('takes a request message as well', async () => {
    const res = await ts.grpc.modelInfer(encodeGrpcInferRequest('simple', simpleInputs(2, 5), { outputs: ['OUTPUT1'] }));
    assert.deepEqual(res.raw_output_contents.map(int32s), [simpleExpected(2, 5).difference]);
  });

  test('rejects with the code, details and message the generated client gives', async () => {
    const request = encodeGrpcInferRequest('nope', simpleInputs());
    const theirs = await ts.grpc.call('ModelInfer', request).then(() => assert.fail('resolved'), (e: grpc.ServiceError) => e);
    const ours = await ts.grpc.modelInfer(request).then(() => assert.fail('resolved'), (e: grpc.ServiceError) => e);
    assert.ok(ours instanceof Error);
    assert.equal(ours.code, grpc.status.NOT_FOUND);
    assert.equal(ours.details, "Request for unknown model: 'nope' is not found");
    assert.deepEqual([ours.code, ours.details, ours.message], [theirs.code, theirs.details, theirs.message]);
  });

  test('refuses bytes that are not a ModelInferRequest with INVALID_ARGUMENT, and answers the next request', async () => {
    // A string field whose length runs past the end of the message.
    await assert.rejects(ts.grpc.modelInfer(Buffer.from([0x0a, 0x40, 0x73])),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /the request is not a ModelInferRequest: message truncated/.test(e.details));
    const res = await ts.grpc.modelInfer(encodeGrpcInferRequest('simple', simpleInputs()));
    assert.deepEqual(res.raw_output_contents.map(int32s), [simpleExpected().sum, simpleExpected().difference]);
  });

  test('gives up with DEADLINE_EXCEEDED when the deadline has passed', async () => {
    await assert.rejects(ts.grpc.modelInfer(encodeGrpcInferRequest('simple', simpleInputs()), { deadline: Date.now() - 1000 }),
      (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED);
  });
});
