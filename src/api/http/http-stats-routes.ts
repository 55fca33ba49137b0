/**
 * Triton's statistics extension over HTTP: `GET /v2/models/stats`,
 * `GET /v2/models/{m}[/versions/{v}]/stats`. Per model version: last inference, inference and
 * execution counts, request durations (success, fail, queue, compute input/infer/output,
 * cache hit/miss, each {count, ns}), response_stats and per batch size compute durations.
 * The objects come from primary/statistics-report.ts, the same the Prometheus metrics read.
 */
import type { FastifyInstance } from 'fastify';
import type { ModelRegistry } from '../../repository/index.ts';
import { modelStatisticsReports, type ModelStatisticsReport } from '../shared/statistics-report.ts';
import type { ApiContext } from '../shared/api-context.ts';

/**
 * The statistics answer of both front-ends (HTTP here, and gRPC ModelStatistics): every ready
 * version of every model, or of the model named (404 for an unknown model or version). `model`
 * and `version` may be '' (gRPC's unset strings) for "all".
 */
export function modelStatistics(registry: ModelRegistry, model?: string, version?: string): { model_stats: ModelStatisticsReport[] } {
  return { model_stats: modelStatisticsReports(registry, model || undefined, version || undefined) };
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
