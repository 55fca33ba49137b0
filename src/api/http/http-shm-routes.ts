/**
 * Triton's shared-memory extensions over HTTP, with its paths and bodies:
 *
 *   GET  /v2/systemsharedmemory[/region/{name}]/status
 *   POST /v2/systemsharedmemory/region/{name}/register   {"key", "offset", "byte_size"}
 *   POST /v2/systemsharedmemory[/region/{name}]/unregister
 *
 * and the same under /v2/cudasharedmemory (register takes {"raw_handle": {"b64"}, "device_id",
 * "byte_size"}). Status answers a JSON array; register and unregister answer 200 with an empty
 * body. The registries (src/shm) and shm-requests.ts (shared with gRPC) do the checking; this file
 * only reads bodies and writes JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serverError } from '../../errors.ts';
import type { ApiContext } from '../shared/api-context.ts';
import { parseJson } from './codec-json.ts';
import { checkShmAllowed, cudaStatusFields, registerCudaRegion, registerSystemRegion, systemStatusFields, unregisterSystemRegions } from '../shared/shm-requests.ts';

type Params = { name: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON body of a register request, as an object. */
function registerBody(req: FastifyRequest, ctx: ApiContext): Record<string, unknown> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const body = raw.length === 0 ? {} : parseJson(raw, ctx.maxJsonDepth);
  if (!isObject(body)) throw serverError('BAD_REQUEST', 'a shared memory register request must be a JSON object');
  return body;
}

const ok = (reply: FastifyReply) => reply.code(200).type('application/json').send();

/** Adds the system and CUDA shared-memory routes to `app`. */
export function shmRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const system = '/v2/systemsharedmemory';
  app.get(`${system}/status`, async () => ctx.clientRegions.status().map(systemStatusFields));
  app.get(`${system}/region/:name/status`, async (req) => ctx.clientRegions.status((req.params as Params).name).map(systemStatusFields));
  app.post(`${system}/region/:name/register`, async (req, reply) => {
    // The flag is checked before the body, as Triton does, so its message is the one a client sees.
    checkShmAllowed(ctx);
    registerSystemRegion(ctx, (req.params as Params).name, registerBody(req, ctx));
    return ok(reply);
  });
  app.post(`${system}/unregister`, async (_req, reply) => {
    unregisterSystemRegions(ctx, undefined);
    return ok(reply);
  });
  app.post(`${system}/region/:name/unregister`, async (req, reply) => {
    unregisterSystemRegions(ctx, (req.params as Params).name);
    return ok(reply);
  });

  const cuda = '/v2/cudasharedmemory';
  app.get(`${cuda}/status`, async () => ctx.cudaRegions.status().map(cudaStatusFields));
  app.get(`${cuda}/region/:name/status`, async (req) => ctx.cudaRegions.status((req.params as Params).name).map(cudaStatusFields));
  app.post(`${cuda}/region/:name/register`, async (req) => {
    checkShmAllowed(ctx);
    registerBody(req, ctx); // a malformed body is still a 400
    return registerCudaRegion(ctx, (req.params as Params).name);
  });
  app.post(`${cuda}/unregister`, async (_req, reply) => {
    ctx.cudaRegions.unregister();
    return ok(reply);
  });
  app.post(`${cuda}/region/:name/unregister`, async (_req, reply) => {
    ctx.cudaRegions.unregister();
    return ok(reply);
  });
}
