/**
 * Triton's statistics extension over HTTP: `GET /v2/models/stats`,
 * `GET /v2/models/{m}[/versions/{v}]/stats`. Per model version: last inference, inference and
 * execution counts, request durations (success, fail, queue, compute input/infer/output,
 * cache hit/miss, each {count, ns}), response_stats and per batch size compute durations.
 * The objects come from primary/statistics-report.ts, which the gRPC front-end shares.
 */
import type { FastifyInstance } from 'fastify';
import { modelStatistics } from '../primary/statistics-report.ts';
import type { ApiContext } from './api-context.ts';

export function statsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry } = ctx;
  app.get('/v2/models/stats', async () => ({ model_stats: modelStatistics(registry) }));
  const one = async (req: { params: unknown }) => {
    const { model, version } = req.params as { model: string; version?: string };
    return { model_stats: modelStatistics(registry, model, version) };
  };
  app.get('/v2/models/:model/stats', one);
  app.get('/v2/models/:model/versions/:version/stats', one);
}
