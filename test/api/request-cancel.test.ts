/**
 * A client that gives up on a request while it waits in a queue: over HTTP (closing the
 * connection), over gRPC through grpc-js (cancelling the call), and over gRPC's direct unary
 * route (resetting the stream). The request leaves the queue without running, counts as a
 * CANCELED failure, and the next request is served.
 *
 * The `slow` model (about 0.4 s a run, one instance, no dynamic batching) runs one request at a
 * time, and two requests are kept ahead of the cancelled one so that it is still queued when the
 * cancellation arrives. Progress is read from the scheduler's counts, never from a timer.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { inferValue, outputValue, startRepoServer, until, type RepoServer } from '../helpers/batching.ts';
import { slowConfig } from '../helpers/repo.ts';
import { encodeGrpcInferRequest, encodeModelInferRequest } from '../../src/client/index.ts';

const guard = { timeout: 60_000 };
const kModelInfer = '/inference.GRPCInferenceService/ModelInfer';

describe('a request cancelled while it queues', () => {
  let s: RepoServer;
  let client: grpc.Client;
  before(async () => {
    s = await startRepoServer({ slow: { from: 'slow', config: slowConfig('instance_group [ { count: 1 kind: KIND_CPU } ]') } }, ['--grpc-address=127.0.0.1']);
    client = new grpc.Client(`127.0.0.1:${s.server.grpcPort}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await s.close();
  });

  /** A ModelInfer call on `slow` for `value`; `deadline` sends it through grpc-js instead of the direct route. */
  function grpcCall(value: number, deadline?: number): { call: grpc.ClientUnaryCall; done: Promise<grpc.ServiceError | null> } {
    const bytes = encodeModelInferRequest(encodeGrpcInferRequest('slow', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [value] }]) as Parameters<typeof encodeModelInferRequest>[0]);
    let call!: grpc.ClientUnaryCall;
    const done = new Promise<grpc.ServiceError | null>((resolve) => {
      call = client.makeUnaryRequest(kModelInfer, (b: Buffer) => b, (b: Buffer) => b, bytes, deadline ? { deadline } : {}, (err) => resolve(err));
    });
    return { call, done };
  }

  /**
   * Puts two requests ahead (one running, one queued), then `start`s the one to cancel and
   * waits until it queues; `cancel` gives it up. Then checks what the server counted.
   */
  async function cancelWhileQueued(start: () => void, cancel: () => void): Promise<void> {
    const scheduler = s.scheduler('slow');
    const stats = s.stats('slow');
    const before = { canceled: stats.failReasons.CANCELED, executions: stats.executionCount };
    const ahead = [inferValue(s.url, 'slow', 1), inferValue(s.url, 'slow', 2)];
    await until(() => scheduler.pendingCount() === 1);
    start();
    await until(() => scheduler.pendingCount() === 2);
    cancel();
    await until(() => stats.failReasons.CANCELED === before.canceled + 1);
    assert.equal(scheduler.pendingCount() <= 1, true);
    assert.deepEqual((await Promise.all(ahead)).map(outputValue), [1, 2]);
    assert.equal(outputValue(await inferValue(s.url, 'slow', 3)), 3, 'the next request is served');
    assert.equal(stats.executionCount, before.executions + 3, 'the cancelled request never ran');
    assert.equal(scheduler.inflightCount(), 0);
  }

  it('over HTTP, when the client closes the connection', guard, async () => {
    const abort = new AbortController();
    let answer!: Promise<Response>;
    await cancelWhileQueued(
      () => {
        answer = fetch(`${s.url}/v2/models/slow/infer`, {
          method: 'POST',
          body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: [9] }] }),
          signal: abort.signal,
        });
        answer.catch(() => {});
      },
      () => abort.abort(),
    );
    await assert.rejects(answer, { name: 'AbortError' });
  });

  it('over gRPC through grpc-js, when the client cancels the call', guard, async () => {
    const directBefore = s.server.grpc!.modelInferDirect!.calls;
    let call!: ReturnType<typeof grpcCall>;
    await cancelWhileQueued(() => { call = grpcCall(9, Date.now() + 600_000); }, () => call.call.cancel());
    assert.equal((await call.done)?.code, grpc.status.CANCELLED);
    assert.equal(s.server.grpc!.modelInferDirect!.calls, directBefore, 'the call went through grpc-js');
  });

  it('over gRPC on the direct unary route, when the client resets the stream', guard, async () => {
    const directBefore = s.server.grpc!.modelInferDirect!.calls;
    let call!: ReturnType<typeof grpcCall>;
    await cancelWhileQueued(() => { call = grpcCall(9); }, () => call.call.cancel());
    assert.equal((await call.done)?.code, grpc.status.CANCELLED);
    assert.equal(s.server.grpc!.modelInferDirect!.calls, directBefore + 1, 'the call took the direct route');
  });
});
