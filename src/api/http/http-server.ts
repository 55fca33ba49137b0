/**
 * Builds the fastify instance for the HTTP front-end: raw-buffer body parsing (the infer route
 * decodes JSON and binary bodies itself), gzip/deflate in and out, the error format, and one
 * plugin per route group.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type onRequestHookHandler } from 'fastify';
import compress from '@fastify/compress';
import { serverError } from '../../errors.ts';
import type { Restrictions } from '../../cli/index.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { checkRestricted, httpRouteGroup } from '../shared/api-groups.ts';
import { httpErrorReply } from '../shared/error-reply.ts';
import { gatherBody } from './http-body-chunks.ts';
import { healthRoutes } from './http-health-routes.ts';
import { inferRoute } from './http-infer-route.ts';
import { generateRoutes } from './http-generate-route.ts';
import { modelRoutes } from './http-model-routes.ts';
import { repositoryRoutes } from './http-repository-routes.ts';
import { shmRoutes } from './http-shm-routes.ts';
import { settingsRoutes } from './http-settings-routes.ts';
import { statsRoutes } from './http-stats-routes.ts';

/** Bodies with a Content-Length up to this go to fastify as they are (see the preParsing hook). */
const kGatherBelowBytes = 16 * 1024;

interface HttpServerOptions {
  /** The server's logger (primary/logger.ts), bound to ctx.logSettings. */
  readonly logger: FastifyBaseLogger;
  /** --http-restricted-api: groups whose routes need a header (none: every route is open). */
  readonly restrictions?: Restrictions;
}

/**
 * POST routes that change the server's state: a body they take must be declared
 * application/json. A browser sends a cross-origin POST without asking the server first only
 * with text/plain, a form type or no type at all, so such a request never reaches them. A body
 * with no type at all is taken when the request has no Origin header: Triton's own Python
 * client posts its JSON so, and a browser's cross-origin POST always carries an Origin.
 */
const kJsonBodyRoutes: ReadonlySet<string> = new Set([
  '/v2/logging',
  '/v2/trace/setting',
  '/v2/models/:model/trace/setting',
  '/v2/systemsharedmemory/region/:name/register',
  '/v2/cudasharedmemory/region/:name/register',
  '/v2/repository/models/:model/load',
  '/v2/repository/models/:model/unload',
]);

const hasBody = (req: FastifyRequest): boolean => {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
};

const mediaType = (type: string | undefined): string => (type ?? '').split(';')[0].trim().toLowerCase();

/** 415 for a body on a kJsonBodyRoutes route that is not declared application/json. */
function checkJsonBody(req: FastifyRequest): void {
  if (!hasBody(req)) return;
  const type = mediaType(req.headers['content-type']);
  if (type === '' && req.headers.origin === undefined) return;
  if (type !== 'application/json') throw serverError('SETTINGS_NOT_JSON', `POST ${req.url.split('?')[0].slice(0, 128)}`, type.slice(0, 64));
}

export async function buildHttpServer(ctx: ApiContext, options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: ctx.maxInputSizeBytes,
    // Closing is ours (server-lifecycle.ts, beginHttpClose): a request that arrives on an open
    // connection while the server drains is served (or refused by the stopped scheduler with
    // 503 and our message), and its answer closes the connection; no connection is cut.
    return503OnClosing: false,
    forceCloseConnections: false,
    // Per-request log lines only at --log-verbose 1 and up (changeable at run time through
    // /v2/logging): at load they would cost more than the inference.
    logController: new LogController({ disableRequestLogging: () => ctx.logSettings.verbose < 1 }),
  });
  // First in a body's path: its chunks gathered into few buffers as they arrive, and counted
  // (http-body-chunks.ts), so a body of a million tiny chunks does not hold a Buffer a chunk.
  // (fastify's body reader reads the stream's receivedEncodedLength against Content-Length.)
  app.addHook('preParsing', async (req, _reply, payload) => {
    const chunked = /chunked/i.test(req.headers['transfer-encoding'] ?? '');
    const length = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    // No body, one over the limit (fastify refuses it by its Content-Length), or a small one:
    // nothing to gather. A body of at most kGatherBelowBytes can arrive in at most that many
    // chunks (a few MB of Buffers at worst), and most requests are small: they keep fastify's
    // path without a stream between.
    if (!chunked && (length === null || !(length > kGatherBelowBytes) || length > ctx.maxInputSizeBytes)) return payload;
    return gatherBody(payload, chunked, chunked ? null : length);
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

  // Every route must belong to an API group, or --http-restricted-api could not cover it. The
  // checks a route needs are added to that route alone, so a route without any (inference,
  // unless restricted) pays nothing for them.
  const restrictions = options.restrictions ?? new Map();
  app.addHook('onRoute', (route) => {
    const checks: onRequestHookHandler[] = [];
    for (const method of [route.method].flat()) {
      const group = httpRouteGroup(method, route.url);
      if (group === undefined) throw new Error(`HTTP route ${method} ${route.url} has no API group in api/shared/api-groups.ts`);
      if (restrictions.has(group) && checks.length === 0) {
        checks.push(async (req) => checkRestricted(restrictions, group, (name) => req.headers[name], 'api'));
      }
      if (method === 'POST' && kJsonBodyRoutes.has(route.url)) checks.push(async (req) => checkJsonBody(req));
    }
    if (checks.length > 0) route.onRequest = [...[route.onRequest ?? []].flat(), ...checks];
  });
  // While the server drains, every answer closes its connection after it, so that no idle
  // keep-alive connection is left for the final close to cut under a client's next request.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (ctx.isClosing()) reply.header('connection', 'close');
    done(null, payload);
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

/** An HTTP front-end on its way down (beginHttpClose). */
export interface HttpClosing {
  /**
   * Closes the connections left idle (every answer given while draining closed its own) and
   * resolves once every connection is gone.
   */
  finish(): Promise<void>;
  /** Cuts whatever is still open (a client that never finishes sending, say). */
  force(): void;
}

/**
 * Stops accepting connections without cutting the ones already open. Node's server.close()
 * also closes every keep-alive connection that is idle at that moment, and a client may have
 * just written its next request on one: that request would be lost to a reset (the issue's
 * 25-43 lost requests under 32 connections). So idle connections stay open while the server
 * drains; a request on one is answered (its result, or 503 once the schedulers have stopped)
 * with `Connection: close`, and finish() closes the rest once the in-flight work is done. Call
 * after ctx.isClosing() has become true.
 */
export function beginHttpClose(app: FastifyInstance): HttpClosing {
  const server = app.server;
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {};
  const closed = app.close();
  return {
    finish: () => {
      closeIdle();
      // A connection whose answer began before the drain (so without Connection: close) and
      // ends after this point goes idle later: Node's keep-alive timer then closes it promptly.
      server.keepAliveTimeout = 1;
      return closed;
    },
    force: () => server.closeAllConnections(),
  };
}
