/**
 * Triton's statistics extension as plain objects, for every front-end: the HTTP routes send them
 * as JSON, and the gRPC ModelStatistics RPC can hand them to protobufjs as they are (the field
 * names are those of Triton's ModelStatistics message; counts and ns are numbers, which
 * protobufjs takes for uint64). The same ModelStatistics objects feed the Prometheus metrics.
 */
import type { ModelRegistry } from '../../repository/index.ts';
import { parseModelVersion, type LoadedModel } from '../../repository/index.ts';
import type { Duration, ModelStatistics } from '../../observability/index.ts';

interface InferStatisticsReport {
  readonly success: Duration;
  readonly fail: Duration;
  readonly queue: Duration;
  readonly compute_input: Duration;
  readonly compute_infer: Duration;
  readonly compute_output: Duration;
  readonly cache_hit: Duration;
  readonly cache_miss: Duration;
}

interface BatchStatisticsReport {
  readonly batch_size: number;
  readonly compute_input: Duration;
  readonly compute_infer: Duration;
  readonly compute_output: Duration;
}

/** One model version, in the shape of Triton's `ModelStatistics` (JSON and protobuf alike). */
export interface ModelStatisticsReport {
  readonly name: string;
  /** A string, as in Triton. */
  readonly version: string;
  /** ms since the epoch of the last successful inference; 0 before any. */
  readonly last_inference: number;
  /** Batch elements inferred. */
  readonly inference_count: number;
  /** Model runs. */
  readonly execution_count: number;
  readonly inference_stats: InferStatisticsReport;
  /** Per-response figures of decoupled models; Nereid has none, so always empty (as Triton for other models). */
  readonly response_stats: Record<string, never>;
  readonly batch_stats: readonly BatchStatisticsReport[];
  /** Memory used by the model, by device; not measured yet, so empty. */
  readonly memory_usage: readonly never[];
}

const copy = (d: Duration): Duration => ({ count: d.count, ns: d.ns });

/** One model version's figures, copied (the caller may keep or change them). */
function modelStatisticsReport(name: string, version: number, s: ModelStatistics): ModelStatisticsReport {
  return {
    name,
    version: String(version),
    last_inference: s.lastInference,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: copy(s.success),
      fail: copy(s.fail),
      queue: copy(s.queue),
      compute_input: copy(s.computeInput),
      compute_infer: copy(s.computeInfer),
      compute_output: copy(s.computeOutput),
      cache_hit: copy(s.cacheHit),
      cache_miss: copy(s.cacheMiss),
    },
    response_stats: {},
    batch_stats: s.batchStats().map((b) => ({
      batch_size: b.batch_size,
      compute_input: copy(b.compute_input),
      compute_infer: copy(b.compute_infer),
      compute_output: copy(b.compute_output),
    })),
    memory_usage: [],
  };
}

function readyVersions(model: LoadedModel, version: string | undefined) {
  const wanted = parseModelVersion(version);
  return [...model.versions.values()].filter((v) => v.state === 'READY' && (wanted === undefined || v.version === wanted));
}

/**
 * The statistics of every ready version of every model (no `model`), of one model, or of one
 * version of it. `version` is the request's text; '' or undefined means all ready versions.
 * Throws the registry's ServerError (404) for an unknown model or version.
 */
export function modelStatisticsReports(registry: ModelRegistry, model?: string, version?: string): ModelStatisticsReport[] {
  if (model === undefined || model === '') {
    return registry.all().flatMap((m) => readyVersions(m, undefined).map((v) => modelStatisticsReport(m.name, v.version, v.stats)));
  }
  const wanted = version === '' ? undefined : version;
  if (wanted !== undefined) registry.ready(model, wanted); // 404 for an unknown version
  const entry = registry.get(model);
  return readyVersions(entry, wanted).map((v) => modelStatisticsReport(entry.name, v.version, v.stats));
}
