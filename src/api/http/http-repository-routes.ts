/**
 * The model repository extension over HTTP. `POST /v2/repository/index`: every model in the
 * repositories with each version's state and, where it is not READY, the reason (`{"ready":
 * true}` lists only ready ones; a model never loaded appears with its name only).
 * `POST /v2/repository/models/{m}/load`, with optional `parameters.config` (a JSON ModelConfig
 * as a string) and `parameters["file:<version>/<name>"]` (base64 contents), and
 * `POST /v2/repository/models/{m}/unload`, with optional `parameters.unload_dependents`. Outside
 * explicit mode, load and unload answer Triton's 503 "explicit model load / unload is not allowed
 * if polling is enabled".
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serverError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { parseJson } from './codec-json.ts';
import { loadParameters, unloadDependents, type RepositoryParameter } from '../shared/repository-requests.ts';

export function repositoryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v2/repository/index', async (req) => {
    const body = jsonBody(req, ctx, 'repository index');
    const readyOnly = body.ready;
    if (readyOnly !== undefined && typeof readyOnly !== 'boolean') throw serverError('BAD_REQUEST', "'ready' must be a boolean");
    return ctx.models.index(readyOnly === true);
  });
  app.post('/v2/repository/models/:model/load', async (req, reply) => {
    const { model } = req.params as { model: string };
    const parameters = httpParameters(jsonBody(req, ctx, 'model load'));
    await ctx.models.load(model, loadParameters(parameters, 'base64'));
    return reply.type('application/json').send('');
  });
  app.post('/v2/repository/models/:model/unload', async (req, reply) => {
    const { model } = req.params as { model: string };
    const parameters = httpParameters(jsonBody(req, ctx, 'model unload'));
    await ctx.models.unload(model, unloadDependents(parameters));
    return reply.type('application/json').send('');
  });
}

function jsonBody(req: FastifyRequest, ctx: ApiContext, what: string): Record<string, unknown> {
  const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? parseJson(req.body, ctx.maxJsonDepth) : {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw serverError('BAD_REQUEST', `the ${what} request must be a JSON object`);
  return body as Record<string, unknown>;
}

/** `parameters` of a load/unload body: each value a JSON string, boolean or number. */
function httpParameters(body: Record<string, unknown>): Map<string, RepositoryParameter> {
  const parameters = body.parameters;
  const out = new Map<string, RepositoryParameter>();
  if (parameters === undefined) return out;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) throw serverError('BAD_REQUEST', "'parameters' must be a JSON object");
  for (const [key, value] of Object.entries(parameters)) {
    if (typeof value === 'string') out.set(key, { kind: 'string', value });
    else if (typeof value === 'boolean') out.set(key, { kind: 'bool', value });
    else if (typeof value === 'number' && Number.isSafeInteger(value)) out.set(key, { kind: 'int', value });
    else throw serverError('BAD_REQUEST', `parameter '${shorten(key)}' must be a string, a boolean or an integer`);
  }
  return out;
}

function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
