/**
 * Triton's statistics extension over HTTP: `GET /v2/models/stats`,
 * `GET /v2/models/{m}[/versions/{v}]/stats`. Per model version: last inference, inference and
 * execution counts, request durations (success, fail, queue, compute input/infer/output,
 * cache hit/miss, each {count, ns}) and per batch size compute durations.
 */
import type { FastifyInstance } from 'fastify';
import type { LoadedModel } from '../primary/model-lifecycle.ts';
import type { ModelRegistry } from '../primary/model-registry.ts';
import type { ModelStatistics } from '../primary/model-statistics.ts';
import type { ApiContext } from './api-context.ts';

/** One model version's statistics in Triton's JSON shape. */
export function modelStatsJson(name: string, version: number, s: ModelStatistics): Record<string, unknown> {
  return {
    name,
    version: String(version),
    last_inference: s.lastInference,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: { ...s.success },
      fail: { ...s.fail },
      queue: { ...s.queue },
      compute_input: { ...s.computeInput },
      compute_infer: { ...s.computeInfer },
      compute_output: { ...s.computeOutput },
      cache_hit: { ...s.cacheHit },
      cache_miss: { ...s.cacheMiss },
    },
    batch_stats: s.batchStats().map((b) => ({
      batch_size: b.batch_size,
      compute_input: { ...b.compute_input },
      compute_infer: { ...b.compute_infer },
      compute_output: { ...b.compute_output },
    })),
    memory_usage: [],
  };
}

function versionsOf(model: LoadedModel, version: string | undefined) {
  return [...model.versions.values()].filter((v) => v.state === 'READY' && (version === undefined || String(v.version) === version));
}

/**
 * The statistics answer of both front-ends: every ready version of every model, or of the model
 * named (404 for an unknown model or version).
 */
export function modelStatistics(registry: ModelRegistry, model?: string, version?: string): { model_stats: Record<string, unknown>[] } {
  if (model === undefined) {
    return { model_stats: registry.all().flatMap((m) => versionsOf(m, undefined).map((v) => modelStatsJson(m.name, v.version, v.stats))) };
  }
  if (version !== undefined) registry.ready(model, version); // 404 for an unknown version
  const entry = registry.get(model);
  return { model_stats: versionsOf(entry, version).map((v) => modelStatsJson(entry.name, v.version, v.stats)) };
}

export function statsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry } = ctx;
  app.get('/v2/models/stats', async () => modelStatistics(registry));
  const one = async (req: { params: unknown }) => {
    const { model, version } = req.params as { model: string; version?: string };
    return modelStatistics(registry, model, version);
  };
  app.get('/v2/models/:model/stats', one);
  app.get('/v2/models/:model/versions/:version/stats', one);
}
