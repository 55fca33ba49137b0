/**
 * Decoupled JavaScript models (model_transaction_policy { decoupled: true }): a request gets
 * zero or more responses over gRPC ModelStreamInfer, each with Triton's triton_final_response;
 * unary calls answer Triton's error.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import { repositoryOf } from '../../helpers/server.ts';
import { startGrpcTestServer, type GrpcTestServer } from '../../helpers/grpc.ts';
import { jsonOf, postJson } from '../../helpers/http.ts';
import type { StreamResult } from '../../../src/client/index.ts';

describe('a decoupled JavaScript model', () => {
  let ts: GrpcTestServer;
  before(async () => {
    ts = await startGrpcTestServer([`--model-repository=${repositoryOf('js_repeat', 'simple')}`]);
  });
  after(() => ts.close());

  const values = (r: StreamResult) => Object.fromEntries(r.result!.outputs.map((o) => [o.name, Array.from(o.data as ArrayLike<number>)]));

  test('streams one response per element, each flagged final or not, and an empty final response when asked', async () => {
    const stream = ts.grpc.stream();
    stream.send('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [3], data: [4, 5, 6] }], { id: 'r1', parameters: { triton_enable_empty_final_response: true } });
    const got: StreamResult[] = [];
    for (let i = 0; i < 4; i++) got.push(await stream.next());
    assert.deepEqual(got.map((r) => [r.id, r.error, r.final]), [['r1', null, false], ['r1', null, false], ['r1', null, false], ['r1', null, true]]);
    assert.deepEqual(got.slice(0, 3).map(values), [{ OUT: [4], IDX: [0] }, { OUT: [5], IDX: [1] }, { OUT: [6], IDX: [2] }]);
    assert.deepEqual(got[3].result!.outputs, []);
    // Without the parameter, the final flag alone sends nothing: the next message is the next request's.
    stream.send('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [1], data: [7] }], { id: 'r2' });
    stream.send('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [0], data: [] }], { id: 'r3', parameters: { triton_enable_empty_final_response: true } });
    const next = [await stream.next(), await stream.next()];
    assert.deepEqual(next.map((r) => [r.id, r.final]), [['r2', false], ['r3', true]]);
    await stream.end();
  });

  test('streams an error response, and a final error when execute throws; the instance stays up', async () => {
    const stream = ts.grpc.stream();
    stream.send('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [2], data: [99, 1] }], { id: 'e1' });
    const first = await stream.next();
    assert.deepEqual([first.id, first.error, first.final], ['e1', 'element 0 is 99', false]);
    assert.deepEqual(values(await stream.next()), { OUT: [1], IDX: [1] });
    stream.send('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [2], data: [1, 2] }], { id: 'e2', parameters: { throw: true } });
    assert.deepEqual(values(await stream.next()), { OUT: [1], IDX: [0] });
    const thrown = await stream.next();
    assert.deepEqual([thrown.id, thrown.error, thrown.final], ['e2', 'thrown after the first response', true]);
    stream.send('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [1], data: [8] }], { id: 'e3' });
    assert.deepEqual(values(await stream.next()), { OUT: [8], IDX: [0] });
    await stream.end();
  });

  test('keeps other models on the same stream answering in order', async () => {
    const stream = ts.grpc.stream();
    stream.send('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(2) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
    ], { id: 's1' });
    const r = await stream.next();
    assert.equal(r.id, 's1');
    assert.equal(r.final, null);
    await stream.end();
  });

  test("answers a unary gRPC call and an HTTP request with Triton's errors", async () => {
    await assert.rejects(ts.grpc.infer('js_repeat', [{ name: 'IN', datatype: 'INT32', shape: [1], data: [1] }]), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.UNIMPLEMENTED);
      assert.equal(err.details, "ModelInfer RPC doesn't support models with decoupled transaction policy");
      return true;
    });
    const res = await postJson(`${ts.url}/v2/models/js_repeat/infer`, { inputs: [{ name: 'IN', datatype: 'INT32', shape: [1], data: [1] }] });
    assert.equal(res.status, 501);
    assert.deepEqual(jsonOf(res), { error: "HTTP end point doesn't support models with decoupled transaction policy" });
  });
});
