/**
 * Builds the fastify instance for the HTTP front-end: raw-buffer body parsing (the infer route
 * decodes JSON and binary bodies itself), gzip/deflate in and out, the error format, and one
 * plugin per route group.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import compress from '@fastify/compress';
import type { ApiContext } from '../shared/api-context.ts';
import { httpErrorReply } from '../shared/error-reply.ts';
import { healthRoutes } from './http-health-routes.ts';
import { inferRoute } from './http-infer-route.ts';
import { generateRoutes } from './http-generate-route.ts';
import { modelRoutes } from './http-model-routes.ts';
import { repositoryRoutes } from './http-repository-routes.ts';
import { shmRoutes } from './http-shm-routes.ts';
import { settingsRoutes } from './http-settings-routes.ts';
import { statsRoutes } from './http-stats-routes.ts';

interface HttpServerOptions {
  /** The server's logger (primary/logger.ts), bound to ctx.logSettings. */
  readonly logger: FastifyBaseLogger;
}

export async function buildHttpServer(ctx: ApiContext, options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: ctx.maxInputSizeBytes,
    return503OnClosing: true,
    forceCloseConnections: false,
    // Per-request log lines only at --log-verbose 1 and up (changeable at run time through
    // /v2/logging): at load they would cost more than the inference.
    logController: new LogController({ disableRequestLogging: () => ctx.logSettings.verbose < 1 }),
  });
  // Request bodies are decompressed (Content-Encoding gzip/deflate) before the body limit is
  // applied, so a small compressed body that inflates past the limit is refused with 413.
  await app.register(compress, { global: true, encodings: ['gzip', 'deflate'], requestEncodings: ['gzip', 'deflate'] });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    const out = httpErrorReply(err, { maxInputSizeBytes: ctx.maxInputSizeBytes });
    if (out.internal) req.log.error({ err }, 'request failed');
    reply.code(out.status).type('application/json').send(out.body);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'Not Found' });
  });

  healthRoutes(app, ctx);
  modelRoutes(app, ctx);
  inferRoute(app, ctx);
  generateRoutes(app, ctx);
  repositoryRoutes(app, ctx);
  statsRoutes(app, ctx);
  shmRoutes(app, ctx);
  settingsRoutes(app, ctx);
  return app;
}
