/**
 * `POST /v2/repository/index`: every model in the repositories with each version's state and,
 * where it is not READY, the reason (Triton's repository index; `{"ready": true}` lists only
 * ready ones). A model that failed before any version was tried appears once, without a version.
 */
import type { FastifyInstance } from 'fastify';
import { serverError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { parseJson } from './codec-json.ts';
import { repositoryIndex } from '../shared/model-info.ts';

export function repositoryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v2/repository/index', async (req) => {
    const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? parseJson(req.body, ctx.maxJsonDepth) : {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw serverError('BAD_REQUEST', 'the repository index request must be a JSON object');
    const readyOnly = (body as { ready?: unknown }).ready;
    if (readyOnly !== undefined && typeof readyOnly !== 'boolean') throw serverError('BAD_REQUEST', "'ready' must be a boolean");
    return repositoryIndex(ctx.registry, readyOnly === true);
  });
}
