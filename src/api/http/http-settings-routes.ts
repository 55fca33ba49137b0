/**
 * Triton's logging and trace extensions over HTTP, both "GET to read, POST to change, answer
 * the settings now in force":
 *
 *   GET/POST /v2/logging                          log_file, log_info, log_warning, log_error,
 *                                                 log_verbose_level, log_format
 *   GET/POST /v2/trace/setting                    trace_level, trace_rate, trace_count,
 *   GET/POST /v2/models/{m}/trace/setting         log_frequency, trace_file, trace_mode
 *
 * A POST body is a JSON object holding the fields to change (empty: change nothing). The checks
 * and the state live in primary/log-settings.ts and primary/trace-manager.ts, which the gRPC
 * LogSettings and TraceSetting RPCs share.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../shared/api-context.ts';
import { parseJson } from './codec-json.ts';

export function settingsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const body = (req: FastifyRequest): unknown => (Buffer.isBuffer(req.body) && req.body.length > 0 ? parseJson(req.body, ctx.maxJsonDepth) : {});

  app.get('/v2/logging', async () => ctx.logSettings.toJson());
  app.post('/v2/logging', async (req) => ctx.logSettings.update(body(req)));

  app.get('/v2/trace/setting', async () => ctx.tracing.get());
  app.post('/v2/trace/setting', async (req) => ctx.tracing.update(body(req)));

  // A model's setting: the model must be loaded and ready (404 or 503 otherwise, as for inference).
  const model = (req: FastifyRequest): string => ctx.registry.ready((req.params as { model: string }).model).config.name;
  app.get('/v2/models/:model/trace/setting', async (req) => ctx.tracing.get(model(req)));
  app.post('/v2/models/:model/trace/setting', async (req) => {
    const name = model(req);
    return ctx.tracing.update(body(req), name);
  });
}
