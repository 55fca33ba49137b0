/**
 * The response cache end to end: `response_cache { enable: true }` on a server started with
 * --cache-config; hits answered without running the model, over HTTP and gRPC alike, with Triton's
 * statistics and metrics; LRU eviction within the size; and the models it leaves alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRepoServer, type RepoServer } from '../helpers/batching.ts';
import { simpleInputs } from '../helpers/grpc.ts';
import { jsonOf, postJson, request, simpleRequest, type RawResponse } from '../helpers/http.ts';
import { sampleValue, scrape } from '../helpers/metrics.ts';
import { EXAMPLES } from '../helpers/server.ts';
import { GrpcClient } from '../../src/client/index.ts';

const simpleConfig = readFileSync(path.join(EXAMPLES, 'simple', 'config.pbtxt'), 'utf8').replace(/^name: .*\n/m, '');
const cached = { from: 'simple', config: `${simpleConfig}response_cache { enable: true }\n` };
const plain = { from: 'simple', config: simpleConfig };

/** `simple` with INPUT0 = start..start+15 (one row): OUTPUT0 = INPUT0 + 1. */
const infer = (url: string, model: string, start: number, extra: Record<string, unknown> = {}) => {
  const body = simpleRequest(1, extra) as { inputs: { data: number[] }[] };
  body.inputs[0].data = body.inputs[0].data.map((v) => v + start);
  return postJson(`${url}/v2/models/${model}/infer`, body);
};
const sumOf = (res: RawResponse) => {
  assert.equal(res.status, 200, res.body.toString());
  return jsonOf(res).outputs[0].data as number[];
};

describe('response cache', () => {
  let s: RepoServer;
  let grpc: GrpcClient;
  before(async () => {
    // Room for two of simple's responses (two 64-byte outputs and the allowances: 590 bytes each).
    s = await startRepoServer({ cached, plain }, ['--cache-config=local,size=1300', '--grpc-address=127.0.0.1']);
    grpc = new GrpcClient(`127.0.0.1:${s.server.grpcPort}`);
  });
  after(async () => {
    grpc?.close();
    await s?.close();
  });

  test('answers a repeated request from the cache, without running the model', async () => {
    const stats = s.stats('cached');
    const first = await infer(s.url, 'cached', 100, { id: 'one' });
    const again = await infer(s.url, 'cached', 100, { id: 'two' });
    assert.deepEqual(sumOf(again), sumOf(first));
    assert.equal(jsonOf(again).id, 'two', 'the answer carries its own request id');
    assert.deepEqual(sumOf(first), Array.from({ length: 16 }, (_, i) => 100 + i + 1));
    assert.equal(stats.cacheMiss.count, 1);
    assert.equal(stats.cacheHit.count, 1);
    assert.equal(stats.success.count, 2, 'a hit is a success');
    assert.equal(stats.executionCount, 1, 'a hit does not run the model');
    assert.equal(stats.inferenceCount, 1, 'a hit is not an inference');
    assert.ok(stats.cacheHit.ns > 0 && stats.cacheMiss.ns > 0);
  });

  test('shares entries between HTTP and gRPC, which send the same bytes', async () => {
    const stats = s.stats('cached');
    const hits = stats.cacheHit.count;
    const result = await grpc.infer('cached', simpleInputs(1, 100));
    assert.deepEqual(Array.from(result.outputs[0].data as Int32Array), Array.from({ length: 16 }, (_, i) => 100 + i + 1));
    assert.equal(stats.cacheHit.count, hits + 1);
  });

  test('misses for other input values, other outputs asked for, and answers them right', async () => {
    const stats = s.stats('cached');
    const misses = stats.cacheMiss.count;
    assert.deepEqual(sumOf(await infer(s.url, 'cached', 200)), Array.from({ length: 16 }, (_, i) => 200 + i + 1));
    const onlyDifference = await infer(s.url, 'cached', 100, { outputs: [{ name: 'OUTPUT1' }] });
    assert.equal(jsonOf(onlyDifference).outputs.length, 1);
    assert.equal(jsonOf(onlyDifference).outputs[0].name, 'OUTPUT1');
    assert.equal(stats.cacheMiss.count, misses + 2);
  });

  test('classifies a cached response: the class count is applied after the cache', async () => {
    const stats = s.stats('cached');
    const hits = stats.cacheHit.count;
    const res = await infer(s.url, 'cached', 300, { outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT1' }] });
    assert.equal(res.status, 200);
    const classified = await infer(s.url, 'cached', 300, { outputs: [{ name: 'OUTPUT0', parameters: { classification: 2 } }, { name: 'OUTPUT1' }] });
    assert.deepEqual(jsonOf(classified).outputs[0].data, ['316:15', '315:14']);
    assert.equal(stats.cacheHit.count, hits + 1);
  });

  test('evicts the least recently used response when full', async () => {
    const stats = s.stats('cached');
    await infer(s.url, 'cached', 1000); // miss: holds [.., 1000]
    await infer(s.url, 'cached', 2000); // miss: holds [1000, 2000]
    await infer(s.url, 'cached', 1000); // hit: 1000 is now the newest
    await infer(s.url, 'cached', 3000); // miss: evicts 2000
    const before = { hits: stats.cacheHit.count, misses: stats.cacheMiss.count };
    await infer(s.url, 'cached', 1000);
    assert.equal(stats.cacheHit.count, before.hits + 1, '1000 was kept');
    await infer(s.url, 'cached', 2000);
    assert.equal(stats.cacheMiss.count, before.misses + 1, '2000 was evicted');
  });

  test("reports cache_hit and cache_miss in the statistics extension, and Triton's metrics for the cached model only", async () => {
    const stats = s.stats('cached');
    const [fetched] = jsonOf(await request(`${s.url}/v2/models/cached/stats`)).model_stats;
    assert.equal(fetched.inference_stats.cache_hit.count, stats.cacheHit.count);
    assert.equal(fetched.inference_stats.cache_miss.count, stats.cacheMiss.count);
    const { samples } = await scrape(s.server.metricsPort!);
    const labels = { model: 'cached', version: '1' };
    assert.equal(sampleValue(samples, 'nv_cache_num_hits_per_model', labels), stats.cacheHit.count);
    assert.equal(sampleValue(samples, 'nv_cache_num_misses_per_model', labels), stats.cacheMiss.count);
    assert.equal(sampleValue(samples, 'nv_cache_hit_duration_per_model', labels), Math.floor(stats.cacheHit.ns / 1000));
    assert.equal(sampleValue(samples, 'nv_cache_miss_duration_per_model', labels), Math.floor(stats.cacheMiss.ns / 1000));
    assert.equal(sampleValue(samples, 'nv_cache_num_hits_per_model', { model: 'plain', version: '1' }), undefined);
  });

  test('leaves a model without response_cache alone', async () => {
    await infer(s.url, 'plain', 5);
    await infer(s.url, 'plain', 5);
    const stats = s.stats('plain');
    assert.equal(stats.executionCount, 2);
    assert.equal(stats.cacheHit.count + stats.cacheMiss.count, 0);
  });
});

describe('response_cache without a server cache', () => {
  let s: RepoServer;
  let dir: string;
  let file: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-cache-'));
    file = path.join(dir, 'server.log');
    s = await startRepoServer({
      cached,
      decoupled: { from: 'simple', config: `${simpleConfig}response_cache { enable: true }\nmodel_transaction_policy { decoupled: true }\n` },
    }, [`--log-file=${file}`, '--log-format=json']);
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('runs the model uncached, as Triton, and says so in the load warning', async () => {
    await infer(s.url, 'cached', 7);
    await infer(s.url, 'cached', 7);
    const stats = s.stats('cached');
    assert.equal(stats.executionCount, 2);
    assert.equal(stats.cacheHit.count + stats.cacheMiss.count, 0);
    const warnings = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)).filter((l) => l.model === 'cached' && l.level === 40);
    assert.equal(warnings.length, 1);
    assert.deepEqual(warnings[0].fields, ['response_cache (the server has no --cache-config)']);
  });

  test("refuses to load a decoupled model with the cache enabled, with Triton's message", () => {
    const model = s.server.registry.get('decoupled');
    assert.equal(model.config, null);
    assert.match(model.reason, /Response Cache does not currently support model decoupled with 'decoupled' transaction policy\. Please disable the response cache\./);
  });
});
