/**
 * SIGTERM under load, on the real `nereid` process (issue 13): every request a client sent gets
 * an answer (its result, or 503 / UNAVAILABLE saying why), never a reset connection, and the
 * process exits 0, with the exit timeout cut short by a queue that cannot finish too. Replays
 * with more load and figures: bench/sigterm-replay.ts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { Client } from 'undici';
import { GrpcClient } from '../src/client/index.ts';
import { nereid, startNereid, waitFor } from './helpers/nereid-process.ts';
import { makeRepository, slowConfig } from './helpers/repo.ts';
import { repositoryOf } from './helpers/server.ts';
import { inferValue, outputValue, sleep, until } from './helpers/batching.ts';
import { jsonOf } from './helpers/http.ts';
import { parseMetrics, sampleValue } from './helpers/metrics.ts';

const UNAVAILABLE = 14;
const simpleInputs = () => ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(3) }));
const simpleBody = JSON.stringify({ inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(3) })) });

/** The error's code, or its cause's (undici wraps socket errors). */
const codeOf = (err: unknown): string | undefined => (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;

describe('nereid on SIGTERM', () => {
  test('answers every request sent on keep-alive HTTP connections, gRPC calls and a stream, and exits 0', { timeout: 120_000 }, async () => {
    // The open stream holds the drain (it may carry a sequence) until the exit timeout.
    const { child, output, httpPort, grpcPort } = await startNereid([`--model-repository=${repositoryOf('simple')}`, '--exit-timeout-secs=2']);
    const exit = once(child, 'close');
    const statuses = new Map<number, number>();
    const lost: string[] = [];
    let answered = 0;
    const answer = () => { answered++; };

    // 12 keep-alive connections, each sending the next request as soon as it has an answer,
    // until a new connection is refused (the listener is closed: nothing was sent there).
    const clients = Array.from({ length: 12 }, () => new Client(`http://127.0.0.1:${httpPort}`));
    const httpLoops = clients.map(async (client) => {
      for (;;) {
        try {
          const res = await client.request({ path: '/v2/models/simple/infer', method: 'POST', body: simpleBody, headers: { 'content-type': 'application/json' } });
          const text = await res.body.text();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode === 503) assert.match(text, /Server is shutting down/);
          else assert.equal(res.statusCode, 200, text);
          answer();
        } catch (err) {
          if (codeOf(err) !== 'ECONNREFUSED') lost.push(`HTTP: ${(err as Error).message} (${codeOf(err)})`);
          return;
        }
      }
    });
    // Unary gRPC calls back to back, until one is refused with UNAVAILABLE.
    const grpcClients = Array.from({ length: 3 }, () => new GrpcClient(`127.0.0.1:${grpcPort}`));
    const grpcEnds: number[] = [];
    const grpcLoops = grpcClients.map(async (client) => {
      for (;;) {
        try {
          await client.infer('simple', simpleInputs());
          answer();
        } catch (err) {
          grpcEnds.push((err as { code: number }).code);
          return;
        }
      }
    });
    // A stream the client never ends: the server ends it, with UNAVAILABLE, after its answers.
    const stream = grpcClients[0].stream();
    let streamEnd: { code: number; details: string } | null = null;
    const streamLoop = (async () => {
      for (;;) {
        stream.send('simple', simpleInputs());
        try {
          const r = await stream.next();
          if (r.error !== null) assert.match(r.error, /Server is shutting down/);
          answer();
        } catch (err) {
          streamEnd = err as { code: number; details: string };
          return;
        }
      }
    })();

    // Under load, seen from the clients' side, before the signal.
    await until(() => answered >= 200);
    child.kill('SIGTERM');
    await Promise.all([...httpLoops, ...grpcLoops, streamLoop]);
    const [code, signal] = await exit;
    await Promise.all(clients.map((c) => c.close()));
    for (const c of grpcClients) c.close();

    assert.deepEqual(lost, [], 'requests written on open connections that got no answer');
    assert.ok((statuses.get(200) ?? 0) > 0);
    assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 503), []);
    assert.deepEqual(grpcEnds, grpcEnds.map(() => UNAVAILABLE));
    assert.equal(streamEnd!.code, UNAVAILABLE);
    assert.match(streamEnd!.details, /Server is shutting down/);
    assert.equal(signal, null);
    assert.equal(code, 0, output.stderr);
    assert.doesNotMatch(output.stderr, /terminate called/);
  });

  test('with --exit-timeout-secs=1 and a queue that cannot finish, answers the rest 503 / UNAVAILABLE and exits 0', { timeout: 120_000 }, async () => {
    // One request per run (max_batch_size 1), about 0.4 s each: 48 requests need far more than 1 s.
    const repo = makeRepository({ slow: { from: 'slow', config: slowConfig('dynamic_batching { }', 1) } });
    try {
      const { child, output, httpPort, grpcPort, metricsPort } = await startNereid([`--model-repository=${repo.dir}`, '--exit-timeout-secs=1']);
      const exit = once(child, 'close');
      const url = `http://127.0.0.1:${httpPort}`;
      const values = Array.from({ length: 40 }, (_, i) => i + 0.5);
      const http = values.map((v) => inferValue(url, 'slow', v));
      const client = new GrpcClient(`127.0.0.1:${grpcPort}`);
      const grpc = Array.from({ length: 8 }, (_, i) => client.infer('slow', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 1], data: new Float32Array([100 + i]) }])
        .then((r) => (r.outputs[0].data as Float32Array)[0], (err: { code: number; details: string }) => err));
      // SIGTERM once the server holds them all: one at the instance, the rest queued.
      const pending = async () => sampleValue(parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()), 'nv_inference_pending_request_count', { model: 'slow', version: '1' }) ?? 0;
      while (await pending() < values.length + grpc.length - 1) await sleep(10);
      child.kill('SIGTERM');

      const answers = await Promise.all(http);
      let ran = 0;
      let refused = 0;
      answers.forEach((res, i) => {
        if (res.status === 200) {
          assert.equal(outputValue(res), values[i]);
          ran++;
        } else {
          assert.equal(res.status, 503, res.body.toString());
          assert.match(jsonOf(res).error, /^Server is shutting down: the request was still queued when --exit-timeout-secs=1 ran out$/);
          refused++;
        }
      });
      for (const [i, r] of (await Promise.all(grpc)).entries()) {
        if (typeof r === 'number') assert.equal(r, 100 + i);
        else {
          assert.equal(r.code, UNAVAILABLE);
          assert.match(r.details, /--exit-timeout-secs=1 ran out/);
        }
      }
      client.close();
      assert.ok(refused > 0, `the queue finished within the exit timeout (${ran} ran)`);
      const [code, signal] = await exit;
      assert.equal(signal, null);
      assert.equal(code, 0, output.stderr);
      assert.doesNotMatch(output.stderr, /terminate called|Napi::Error/);
    } finally {
      repo.remove();
    }
  });

  test('a signal during the start-up drains once the server has started, and exits 0', { timeout: 120_000 }, async () => {
    const { child, output } = nereid([`--model-repository=${repositoryOf('simple')}`, '--http-address=127.0.0.1', '--http-port=0',
      '--grpc-address=127.0.0.1', '--grpc-port=0', '--metrics-port=0']);
    const exit = once(child, 'close');
    // The instance's line comes while the models load, before any front-end has started.
    await waitFor(child, output, /instance simple_0_0 of model 'simple' version 1 loaded/);
    child.kill('SIGTERM');
    const [code, signal] = await exit;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output.stderr);
    assert.match(output.stdout, /stopped: every request answered, models unloaded/);
  });
});
