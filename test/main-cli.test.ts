import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { sequence } from './helpers/server.ts';
import { nereid, waitFor } from './helpers/nereid-process.ts';
import { makeRepository, slowConfig } from './helpers/repo.ts';
import { inferValue, outputValue } from './helpers/batching.ts';

describe('the nereid command', () => {
  test('serves the example repository, answers an inference, and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    const { child, output } = nereid(['--model-repository', 'model_repository', '--http-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1', '--grpc-port', '0', '--grpc-address', '127.0.0.1']);
    const [, port] = await waitFor(child, output, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
    assert.notEqual(Number(port), 0);
    const [, grpcPort] = await waitFor(child, output, /Started GRPCInferenceService at 127\.0\.0\.1:(\d+)/);
    assert.notEqual(Number(grpcPort), 0);

    const res = await fetch(`http://127.0.0.1:${port}/v2/models/simple/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: sequence(1) },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const result = await res.json() as { outputs: { name: string; data: number[] }[] };
    assert.deepEqual(result.outputs[0].data, sequence(1).map((v) => v * 2));

    const exit = once(child, 'close');
    child.kill('SIGTERM');
    const [code, signal] = await exit;
    assert.equal(signal, null);
    assert.equal(code, 0, output.stderr);
    assert.match(output.stdout, /SIGTERM: finishing in-flight requests/);
    // Every line through the one logger, in Triton's default format; onnxruntime's own lines
    // (native, on stderr) are silenced at --log-verbose=0.
    assert.equal(output.stderr, '');
    for (const line of output.stdout.trimEnd().split('\n')) assert.match(line, /^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} \d+ [\w-]+\] \S/);
  });

  test('on SIGTERM under load, answers every accepted request, refuses new ones, and exits 0', { timeout: 120_000 }, async () => {
    const repo = makeRepository({ slow: { from: 'slow', config: slowConfig('dynamic_batching { }') } });
    try {
      // --log-verbose=1 prints one "incoming request" line per request as the server receives it.
      const { child, output } = nereid(['--model-repository', repo.dir, '--http-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1', '--grpc-port', '0', '--log-verbose=1']);
      const [, port] = await waitFor(child, output, /Started HTTPService at 127\.0\.0\.1:(\d+)/);
      const url = `http://127.0.0.1:${port}`;
      // The first request starts a run of about 0.4 s; the rest wait for it in the queue.
      const values = Array.from({ length: 12 }, (_, i) => i + 0.5);
      const accepted = values.map((v) => inferValue(url, 'slow', v));
      // SIGTERM only once the server has received all of them: a fixed wait here raced their
      // arrival on a busy machine, and the ones that came after SIGTERM were rightly refused.
      const arrival = String.raw`incoming request[^\n]*"url":"/v2/models/slow/infer"`;
      await waitFor(child, output, new RegExp(`(?:${arrival}[^]*){${values.length}}`));
      const exit = once(child, 'close');
      child.kill('SIGTERM');
      await waitFor(child, output, /SIGTERM: finishing in-flight requests/);
      const late = await inferValue(url, 'slow', 99).then((r) => r.status, (err: NodeJS.ErrnoException) => err.code);
      assert.ok(late === 503 || late === 'ECONNREFUSED' || late === 'ECONNRESET', `a request after SIGTERM got ${late}`);
      assert.deepEqual((await Promise.all(accepted)).map(outputValue), values);
      const [code, signal] = await exit;
      assert.equal(signal, null);
      assert.equal(code, 0, output.stderr);
    } finally {
      repo.remove();
    }
  });

  test('exits 1 with one line naming a model repository that cannot be read', { timeout: 60_000 }, async () => {
    const { child, output } = nereid(['--model-repository', '/no/such/repository', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0']);
    const [code] = await once(child, 'close');
    assert.equal(code, 1);
    assert.equal(output.stderr, "nereid: failed to read model repository '/no/such/repository': ENOENT: no such file or directory, scandir '/no/such/repository'\n");
  });

  test('exits 2 with a message naming the flag for --http-port=abc', { timeout: 60_000 }, async () => {
    const { child, output } = nereid(['--http-port=abc']);
    const [code] = await once(child, 'close');
    assert.equal(code, 2);
    assert.match(output.stderr, /^nereid: --http-port must be an integer \(got 'abc'\)/);
    assert.equal(output.stdout, '');
  });
});
