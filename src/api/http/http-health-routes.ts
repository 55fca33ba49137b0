/**
 * Server health and metadata: `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2`.
 * Health answers 200 or 400 with an empty body, as Triton does.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../shared/api-context.ts';
import { serverExtensions } from '../shared/extensions.ts';

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v2/health/live', async (_req, reply) => {
    reply.code(ctx.isLive() ? 200 : 400).send();
  });
  app.get('/v2/health/ready', async (_req, reply) => {
    reply.code(ctx.isReady() ? 200 : 400).send();
  });
  app.get('/v2', async () => ({ name: ctx.serverId ?? 'nereid', version: ctx.version, extensions: serverExtensions(ctx.models.explicit) }));
}
