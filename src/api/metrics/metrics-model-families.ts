/**
 * The per model version metric families, with Triton's names and labels (`model`, `version`).
 *
 * Counters and the pending gauge are read at scrape time from the same ModelStatistics the
 * statistics extension reports (prom-client `collect` callbacks), so the two always agree and
 * a request costs nothing here. Only the optional latency summaries and histogram
 * (--metrics-config summary_latencies / histogram_latencies) see each request, through a
 * LatencyObserver given to that version's statistics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetricsOptions } from '../../cli/index.ts';
import { FAILURE_REASONS, type LatencyObserver, type ModelStatistics } from '../../observability/index.ts';
import type { LifecycleCounts, ModelRegistry } from '../../repository/index.ts';
import type { Scheduler } from '../../repository/index.ts';
import { LatencyHistogram, LatencySummary } from './metrics-latency.ts';

/** What the model families hand back: the observers for the optional latency metrics, and a stop. */
interface ModelFamilies {
  latencyObserver(model: string, version: number): LatencyObserver | null;
  /** Stops the summaries' window timers. */
  close(): void;
}

interface VersionView {
  readonly labels: { model: string; version: string };
  readonly stats: ModelStatistics;
  readonly scheduler: Scheduler | null;
}

/** Every ready model version, with its labels. */
function readyVersions(registry: ModelRegistry): VersionView[] {
  return registry.all().flatMap((m) => [...m.versions.values()]
    .filter((v) => v.state === 'READY')
    .map((v) => ({ labels: { model: m.name, version: String(v.version) }, stats: v.stats, scheduler: v.scheduler })));
}

const us = (ns: number) => Math.floor(ns / 1000);

/** Registers the model families on `prom`. */
export function registerModelFamilies(prom: Registry, registry: ModelRegistry, options: MetricsOptions): ModelFamilies {
  const counter = (name: string, help: string, read: (s: ModelStatistics) => number) => new Counter({
    name, help, labelNames: ['model', 'version'], registers: [prom],
    collect() {
      this.reset();
      for (const v of readyVersions(registry)) this.inc(v.labels, read(v.stats));
    },
  });
  counter('nv_inference_request_success', 'Inference requests answered with outputs; a request counts once whatever its batch size', (s) => s.success.count);
  new Counter({
    name: 'nv_inference_request_failure',
    help: 'Inference requests the scheduler accepted that then failed, by reason: REJECTED (queue timeout), CANCELED, BACKEND (model or worker error), OTHER',
    labelNames: ['model', 'reason', 'version'],
    registers: [prom],
    collect() {
      this.reset();
      for (const v of readyVersions(registry)) {
        for (const reason of FAILURE_REASONS) this.inc({ model: v.labels.model, reason, version: v.labels.version }, v.stats.failReasons[reason]);
      }
    },
  });
  counter('nv_inference_count', 'Batch elements inferred: a request of batch n counts n', (s) => s.inferenceCount);
  counter('nv_inference_exec_count', 'Model runs: each batch sent to an instance counts one', (s) => s.executionCount);
  if (options.counterLatencies) {
    counter('nv_inference_request_duration_us', 'Sum over successful requests of the time from reaching the scheduler to being answered, in microseconds', (s) => us(s.success.ns));
    counter('nv_inference_queue_duration_us', 'Sum over successful requests of the time spent waiting in the queue, in microseconds', (s) => us(s.queue.ns));
    counter('nv_inference_compute_input_duration_us', 'Sum over successful requests of the time spent preparing their batch inputs, in microseconds', (s) => us(s.computeInput.ns));
    counter('nv_inference_compute_infer_duration_us', 'Sum over successful requests of the time their batch ran in the model, in microseconds', (s) => us(s.computeInfer.ns));
    counter('nv_inference_compute_output_duration_us', 'Sum over successful requests of the time spent taking their outputs from the batch, in microseconds', (s) => us(s.computeOutput.ns));
    // The response cache's families, for the versions that use it (as Triton, only those).
    const cacheCounter = (name: string, help: string, read: (s: ModelStatistics) => number) => new Counter({
      name, help, labelNames: ['model', 'version'], registers: [prom],
      collect() {
        this.reset();
        for (const v of readyVersions(registry)) if (v.stats.cacheEnabled) this.inc(v.labels, read(v.stats));
      },
    });
    cacheCounter('nv_cache_num_hits_per_model', 'Requests answered from the response cache', (s) => s.cacheHit.count);
    cacheCounter('nv_cache_hit_duration_per_model', 'Sum of the response cache lookups that hit, in microseconds', (s) => us(s.cacheHit.ns));
    cacheCounter('nv_cache_num_misses_per_model', 'Requests the response cache did not have, answered by the model', (s) => s.cacheMiss.count);
    cacheCounter('nv_cache_miss_duration_per_model', 'Sum of the response cache lookups and insertions of misses, in microseconds', (s) => us(s.cacheMiss.ns));
  }
  new Gauge({
    name: 'nv_inference_pending_request_count',
    help: 'Requests accepted and waiting in the queue for an instance, now',
    labelNames: ['model', 'version'],
    registers: [prom],
    collect() {
      this.reset();
      for (const v of readyVersions(registry)) this.set(v.labels, v.scheduler?.pendingCount?.() ?? 0);
    },
  });
  registerLifecycleFamilies(prom, registry);
  return latencyObservers(prom, options);
}

/** Nereid's own families: loads, failed loads, unloads, evictions and load time by model; the memory budget's use. */
function registerLifecycleFamilies(prom: Registry, registry: ModelRegistry): void {
  const counter = (name: string, help: string, read: (c: LifecycleCounts) => number) => new Counter({
    name, help, labelNames: ['model'], registers: [prom],
    collect() {
      this.reset();
      for (const [model, c] of registry.lifecycle) this.inc({ model }, read(c));
    },
  });
  counter('nereid_model_loads_total', 'Loads of a model that ended with it serving (start-up, polls, load requests, on-demand loads)', (c) => c.loads);
  counter('nereid_model_load_failures_total', 'Loads of a model that failed', (c) => c.loadFailures);
  counter('nereid_model_unloads_total', 'Unloads of a model (requests, removals from the repository, evictions)', (c) => c.unloads);
  counter('nereid_model_evictions_total', 'Unloads of an idle model to stay within --model-memory-budget', (c) => c.evictions);
  counter('nereid_model_load_duration_seconds_total', 'Time spent loading a model, warmup included, in seconds', (c) => c.loadSeconds);
  new Gauge({
    name: 'nereid_model_memory_budget_used',
    help: 'What the loaded models use of --model-memory-budget (estimated bytes, or models), and the budget',
    labelNames: ['unit', 'kind'],
    registers: [prom],
    collect() {
      this.reset();
      if (!registry.budget) return;
      this.set({ unit: registry.budget.unit, kind: 'used' }, registry.budget.used);
      this.set({ unit: registry.budget.unit, kind: 'limit' }, registry.budget.limit);
    },
  });
}

/**
 * Summaries and the first-response histogram, fed per request only when configured (see
 * metrics-latency.ts for why not prom-client's). A version's series appear with its first
 * successful request.
 */
function latencyObservers(prom: Registry, options: MetricsOptions): ModelFamilies {
  if (!options.summaryLatencies && !options.histogramLatencies) return { latencyObserver: () => null, close: () => {} };
  // Triton's summaries keep a sliding window of 60 s in 5 parts (prometheus-cpp's default).
  const summary = (name: string, help: string) => (options.summaryLatencies
    ? new LatencySummary({ name, help, quantiles: options.summaryQuantiles, maxAgeSeconds: 60, ageSlots: 5 }, prom)
    : null);
  const summaries = [
    summary('nv_inference_request_summary_us', 'Time from reaching the scheduler to being answered, per successful request, in microseconds'),
    summary('nv_inference_queue_summary_us', 'Time spent waiting in the queue, per successful request, in microseconds'),
    summary('nv_inference_compute_input_summary_us', 'Time spent preparing batch inputs, per successful request, in microseconds'),
    summary('nv_inference_compute_infer_summary_us', 'Time the batch ran in the model, per successful request, in microseconds'),
    summary('nv_inference_compute_output_summary_us', 'Time spent taking outputs from the batch, per successful request, in microseconds'),
  ];
  // Triton's default buckets for this histogram, in ms.
  const firstResponse = options.histogramLatencies
    ? new LatencyHistogram('nv_inference_first_response_histogram_ms', 'Time from reaching the scheduler to the first (here: the only) response, in milliseconds', [100, 500, 2000, 5000], prom)
    : null;
  const latencyObserver = (model: string, version: number): LatencyObserver => {
    const labels = { model, version: String(version) };
    let series: { observe(v: number): void }[] | null = null;
    let histogram: { observe(v: number): void } | null = null;
    return {
      requestSucceeded(requestNs, queueNs, inputNs, inferNs, outputNs) {
        if (series === null) {
          series = summaries.flatMap((s) => (s ? [s.series(labels)] : []));
          histogram = firstResponse?.series(labels) ?? null;
        }
        if (series.length > 0) {
          series[0].observe(us(requestNs));
          series[1].observe(us(queueNs));
          series[2].observe(us(inputNs));
          series[3].observe(us(inferNs));
          series[4].observe(us(outputNs));
        }
        if (histogram) histogram.observe(Math.floor(requestNs / 1e6));
      },
    };
  };
  return { latencyObserver, close: () => summaries.forEach((s) => s?.close()) };
}
