/**
 * Per-model endpoints: metadata `GET /v2/models/{m}[/versions/{v}]`, readiness `.../ready`
 * (200 or 400, empty body), and the completed configuration `.../config`.
 */
import type { FastifyInstance } from 'fastify';
import { toTritonJson } from '../../model-config/index.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { modelMetadata } from '../shared/model-info.ts';

type Params = { model: string; version?: string };

/** Registers a GET route with and without the `/versions/{v}` segment. */
function withVersions(app: FastifyInstance, suffix: string, handler: (p: Params) => unknown): void {
  const route = async (req: { params: unknown }) => handler(req.params as Params);
  app.get(`/v2/models/:model${suffix}`, route);
  app.get(`/v2/models/:model/versions/:version${suffix}`, route);
}

export function modelRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry } = ctx;

  withVersions(app, '', ({ model, version }) => modelMetadata(registry, model, version));

  const ready = async (req: { params: unknown }, reply: { code(n: number): { send(): void } }) => {
    const { model, version } = req.params as Params;
    reply.code(registry.isReady(model, version) ? 200 : 400).send();
  };
  app.get('/v2/models/:model/ready', ready);
  app.get('/v2/models/:model/versions/:version/ready', ready);

  withVersions(app, '/config', ({ model, version }) => {
    const config = registry.config(model);
    if (version !== undefined) registry.ready(model, version);
    return toTritonJson(config.raw);
  });
}
