import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { inferValue, outputValue, running, startRepoServer, until, type RepoServer } from '../../helpers/batching.ts';
import { slowConfig } from '../../helpers/repo.ts';
import { jsonOf, postJson, request, simpleRequest } from '../../helpers/http.ts';
import { sampleValue, scrape, type Sample } from '../../helpers/metrics.ts';
import { repositoryOf, startTestServer } from '../../helpers/server.ts';
import { CRASH_MARKER, onCrashBackend, registerCrashBackend } from '../../helpers/crash-backend.ts';

// `slow` runs on the test_crash backend: a marked request makes its worker die, a BACKEND failure.
registerCrashBackend();

const guard = { timeout: 60_000 };
const simpleConfig = `platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
dynamic_batching { }
`;
// `slow` runs about 0.2 s; a request's own `timeout` parameter applies (there is none by default).
const slowModel = { from: 'slow', config: onCrashBackend(slowConfig('dynamic_batching { default_queue_policy { allow_timeout_override: true } }')) };
const models = { slow: slowModel, simple: { from: 'simple', config: simpleConfig } };

const labels = (model: string) => ({ model, version: '1' });

describe('Prometheus metrics', () => {
  let s: RepoServer;
  before(async () => {
    s = await startRepoServer(models);
  });
  after(() => s.close());

  it('announces the metrics port like Triton and answers only GET /metrics', guard, async () => {
    const port = s.server.metricsPort!;
    assert.ok(port > 0);
    assert.ok(s.log.includes(`Started Metrics Service at 127.0.0.1:${port}`), s.log.join('\n'));
    const { contentType } = await scrape(port);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const other = await request(`http://127.0.0.1:${port}/v2/health/live`);
    assert.equal(other.status, 404);
    assert.deepEqual(jsonOf(other), { error: 'Not Found' });
    const post = await request(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: '' });
    assert.equal(post.status, 405);
  });

  it('counts good and failed requests exactly as the statistics do, with failure reasons', guard, async () => {
    // slow: one run alone; a request that times out in the queue (REJECTED); three that queue
    // behind the first and run as one batch; one whose worker dies (BACKEND); one more alone.
    const busy = inferValue(s.url, 'slow', 1);
    await until(() => running(s, 'slow'));
    const late = inferValue(s.url, 'slow', 2, { timeout: 30_000 });
    const three = [3, 4, 5].map((v) => inferValue(s.url, 'slow', v));
    assert.equal(outputValue(await busy), 1);
    assert.equal((await late).status, 503);
    assert.deepEqual((await Promise.all(three)).map(outputValue), [3, 4, 5]);
    assert.equal((await inferValue(s.url, 'slow', CRASH_MARKER)).status, 500);
    assert.equal(outputValue(await inferValue(s.url, 'slow', 7)), 7);
    // Refused before the scheduler: not failures of the model.
    const wrongType = await postJson(`${s.url}/v2/models/slow/infer`, { inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 1], data: [1] }] });
    assert.equal(wrongType.status, 400);
    assert.equal((await postJson(`${s.url}/v2/models/nope/infer`, simpleRequest(1))).status, 404);
    // simple: three requests one after another, batches of 1, 3 and 2.
    for (const rows of [1, 3, 2]) assert.equal((await postJson(`${s.url}/v2/models/simple/infer`, simpleRequest(rows))).status, 200);

    const { samples } = await scrape(s.server.metricsPort!);
    const stats = jsonOf(await request(`${s.url}/v2/models/stats`)).model_stats as any[];
    const slow = stats.find((m) => m.name === 'slow');
    const simple = stats.find((m) => m.name === 'simple');

    const metric = (name: string, model: string) => sampleValue(samples, name, labels(model));
    assert.equal(metric('nv_inference_request_success', 'slow'), 5);
    assert.equal(slow.inference_stats.success.count, 5);
    assert.equal(slow.inference_stats.fail.count, 2);
    const failures = Object.fromEntries(['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'].map((reason) => [reason,
      sampleValue(samples, 'nv_inference_request_failure', { model: 'slow', reason, version: '1' })]));
    assert.deepEqual(failures, { REJECTED: 1, CANCELED: 0, BACKEND: 1, OTHER: 0 });
    assert.equal(metric('nv_inference_count', 'slow'), 5);
    assert.equal(slow.inference_count, 5);
    assert.equal(metric('nv_inference_exec_count', 'slow'), 3);
    assert.equal(slow.execution_count, 3);
    assert.deepEqual(slow.batch_stats.map((b: any) => [b.batch_size, b.compute_infer.count]), [[1, 2], [3, 1]]);

    assert.equal(metric('nv_inference_request_success', 'simple'), 3);
    assert.equal(metric('nv_inference_count', 'simple'), 6);
    assert.equal(metric('nv_inference_exec_count', 'simple'), 3);
    assert.equal(simple.inference_count, 6);
    assert.deepEqual(simple.batch_stats.map((b: any) => b.batch_size), [1, 2, 3]);

    const durations: [string, string][] = [
      ['nv_inference_request_duration_us', 'success'], ['nv_inference_queue_duration_us', 'queue'],
      ['nv_inference_compute_input_duration_us', 'compute_input'], ['nv_inference_compute_infer_duration_us', 'compute_infer'],
      ['nv_inference_compute_output_duration_us', 'compute_output'],
    ];
    for (const m of [slow, simple]) {
      for (const [name, key] of durations) {
        const ns = m.inference_stats[key].ns;
        assert.ok(ns > 0, `${m.name} ${key} has a duration`);
        assert.equal(metric(name, m.name), Math.floor(ns / 1000), `${name} of ${m.name} is the statistics' ns in µs`);
      }
    }
    assert.equal(metric('nv_inference_pending_request_count', 'slow'), 0);
  });

  it('shows requests waiting in the queue as pending', guard, async () => {
    const busy = inferValue(s.url, 'slow', 1);
    await until(() => running(s, 'slow'));
    const queued = [2, 3].map((v) => inferValue(s.url, 'slow', v));
    await until(() => s.scheduler('slow').pendingCount() === 2);
    const during = await scrape(s.server.metricsPort!);
    assert.equal(sampleValue(during.samples, 'nv_inference_pending_request_count', labels('slow')), 2);
    await Promise.all([busy, ...queued]);
    const afterwards = await scrape(s.server.metricsPort!);
    assert.equal(sampleValue(afterwards.samples, 'nv_inference_pending_request_count', labels('slow')), 0);
  });

  it('reports CPU utilization and memory with sane values, and no GPU gauges without GPUs', guard, async () => {
    const { samples } = await scrape(s.server.metricsPort!);
    const utilization = sampleValue(samples, 'nv_cpu_utilization')!;
    const total = sampleValue(samples, 'nv_cpu_memory_total_bytes')!;
    const used = sampleValue(samples, 'nv_cpu_memory_used_bytes')!;
    assert.ok(utilization >= 0 && utilization <= 1, `utilization ${utilization}`);
    assert.ok(total > 64 * 1024 * 1024, `total ${total}`);
    assert.ok(used > 0 && used <= total, `used ${used} of ${total}`);
    assert.ok(!samples.some((x: Sample) => x.name.startsWith('nv_gpu_') || x.name === 'nv_energy_consumption'));
  });
});

describe('metrics flags', () => {
  const servers: RepoServer[] = [];
  after(() => Promise.all(servers.map((x) => x.close())));
  const start = async (args: string[]) => {
    const x = await startRepoServer({ simple: { from: 'simple', config: simpleConfig } }, args);
    servers.push(x);
    return x;
  };

  it('serves no metrics with --allow-metrics=false', guard, async () => {
    const x = await start(['--allow-metrics=false']);
    assert.equal(x.server.metricsPort, null);
    assert.ok(!x.log.some((l) => l.startsWith('Started Metrics Service')));
  });

  it('refuses to start on a metrics port in use, closing what it had started', guard, async () => {
    const first = await start([]);
    const taken = first.server.metricsPort!;
    await assert.rejects(startTestServer([`--model-repository=${repositoryOf('simple')}`, `--metrics-port=${taken}`]),
      { code: 'EADDRINUSE', message: `failed to start metrics service: port ${taken} on 127.0.0.1 is already in use` });
    const { samples } = await scrape(taken);
    assert.ok(sampleValue(samples, 'nv_inference_count', labels('simple')) !== undefined, 'the first server still answers');
  });

  it('leaves out the CPU gauges with --allow-cpu-metrics=false and the latency counters with counter_latencies=false', guard, async () => {
    const x = await start(['--allow-cpu-metrics=false', '--metrics-config', 'counter_latencies=false']);
    assert.equal((await postJson(`${x.url}/v2/models/simple/infer`, simpleRequest(1))).status, 200);
    const { samples } = await scrape(x.server.metricsPort!);
    assert.ok(!samples.some((m) => m.name.startsWith('nv_cpu_')));
    assert.ok(!samples.some((m) => m.name.endsWith('_duration_us')));
    assert.equal(sampleValue(samples, 'nv_inference_request_success', labels('simple')), 1);
  });

  it('adds latency summaries with the quantiles asked for, and the first-response histogram', guard, async () => {
    const x = await start(['--metrics-config=summary_latencies=true', '--metrics-config=histogram_latencies=true', '--metrics-config=summary_quantiles=0.5:0.05,0.9:0.01']);
    for (let i = 0; i < 3; i++) assert.equal((await postJson(`${x.url}/v2/models/simple/infer`, simpleRequest(1))).status, 200);
    const { samples } = await scrape(x.server.metricsPort!);
    for (const family of ['request', 'queue', 'compute_input', 'compute_infer', 'compute_output']) {
      const name = `nv_inference_${family}_summary_us`;
      assert.equal(sampleValue(samples, `${name}_count`, labels('simple')), 3, name);
      const quantiles = samples.filter((m) => m.name === name).map((m) => m.labels.quantile);
      assert.deepEqual(quantiles, ['0.5', '0.9'], name);
    }
    assert.ok(sampleValue(samples, 'nv_inference_request_summary_us_sum', labels('simple'))! > 0);
    assert.equal(sampleValue(samples, 'nv_inference_first_response_histogram_ms_count', labels('simple')), 3);
    assert.equal(sampleValue(samples, 'nv_inference_first_response_histogram_ms_bucket', { ...labels('simple'), le: '+Inf' }), 3);
    assert.ok(sampleValue(samples, 'nv_inference_request_duration_us', labels('simple'))! > 0, 'counters stay on by default');
  });
});
