/**
 * The per model version metric families, with Triton's names and labels (`model`, `version`).
 *
 * Counters and the pending gauge are read at scrape time from the same ModelStatistics the
 * statistics extension reports (prom-client `collect` callbacks), so the two always agree and
 * a request costs nothing here. Only the optional latency summaries and histogram
 * (--metrics-config summary_latencies / histogram_latencies) see each request, through a
 * LatencyObserver given to that version's statistics.
 */
import { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';
import type { MetricsOptions } from '../primary/observability-options.ts';
import { FAILURE_REASONS, type LatencyObserver, type ModelStatistics } from '../primary/model-statistics.ts';
import type { ModelRegistry } from '../primary/model-registry.ts';
import type { Scheduler } from '../primary/scheduler.ts';

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

/** Registers the model families on `prom`; returns the observer factory for the summaries. */
export function registerModelFamilies(prom: Registry, registry: ModelRegistry, options: MetricsOptions): (model: string, version: number) => LatencyObserver | null {
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
  return latencyObservers(prom, options);
}

/** Summaries and the first-response histogram, fed per request only when configured. */
function latencyObservers(prom: Registry, options: MetricsOptions): (model: string, version: number) => LatencyObserver | null {
  if (!options.summaryLatencies && !options.histogramLatencies) return () => null;
  // Triton's summaries keep a sliding window of 60 s in 5 buckets (prometheus-cpp's default).
  const summary = (name: string, help: string) => (options.summaryLatencies
    ? new Summary({ name, help, labelNames: ['model', 'version'], percentiles: [...options.summaryQuantiles], maxAgeSeconds: 60, ageBuckets: 5, registers: [prom] })
    : null);
  const request = summary('nv_inference_request_summary_us', 'Time from reaching the scheduler to being answered, per successful request, in microseconds');
  const queue = summary('nv_inference_queue_summary_us', 'Time spent waiting in the queue, per successful request, in microseconds');
  const input = summary('nv_inference_compute_input_summary_us', 'Time spent preparing batch inputs, per successful request, in microseconds');
  const infer = summary('nv_inference_compute_infer_summary_us', 'Time the batch ran in the model, per successful request, in microseconds');
  const output = summary('nv_inference_compute_output_summary_us', 'Time spent taking outputs from the batch, per successful request, in microseconds');
  const firstResponse = options.histogramLatencies
    ? new Histogram({ name: 'nv_inference_first_response_histogram_ms', help: 'Time from reaching the scheduler to the first (here: the only) response, in milliseconds', labelNames: ['model', 'version'], buckets: [100, 500, 2000, 5000], registers: [prom] })
    : null;
  return (model, version) => {
    const labels = { model, version: String(version) };
    const [r, q, i, n, o] = [request, queue, input, infer, output].map((s) => s?.labels(labels) ?? null);
    const h = firstResponse?.labels(labels) ?? null;
    return {
      requestSucceeded(requestNs, queueNs, inputNs, inferNs, outputNs) {
        if (r) {
          r.observe(us(requestNs));
          q!.observe(us(queueNs));
          i!.observe(us(inputNs));
          n!.observe(us(inferNs));
          o!.observe(us(outputNs));
        }
        if (h) h.observe(Math.floor(requestNs / 1e6));
      },
    };
  };
}
